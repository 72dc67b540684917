-- Maintenance functions absurdctl and pg_cron jobs call (list-detach-candidates, cron, ...). They must
-- exist and answer correctly while every queue is unpartitioned: such a queue has no weekly
-- partitions, so there is nothing to provision, detach or drop. Everything that touches cron.* is
-- PL/pgSQL with dynamic SQL, so the schema installs on servers without pg_cron.
-- absurd.portable_uuidv7() already takes zero arguments through its defaulted p_at parameter; a
-- separate zero-argument overload would make every such call ambiguous, so none is added.

-- The instant embedded in a version-7 uuid (its first 48 bits, in milliseconds); null for other versions.
create or replace function absurd.uuidv7_timestamp(p_id uuid) returns timestamptz
language sql immutable strict
as $$
  select case when get_byte(uuid_send(p_id), 6) >> 4 = 7
    then timestamptz 'epoch' + (('x' || substr(replace(p_id::text, '-', ''), 1, 12))::bit(48)::bigint || ' milliseconds')::interval
  end
$$;

-- The smallest version-7 uuid of the millisecond containing p_ts: the lower bound of a weekly partition.
create or replace function absurd.uuidv7_floor(p_ts timestamptz) returns uuid
language plpgsql immutable strict
as $$
declare
  v_ms numeric := floor(extract(epoch from p_ts) * 1000);
begin
  if v_ms < 0 or v_ms > 281474976710655 then
    raise exception 'Timestamp "%" is outside UUIDv7 supported range', p_ts;
  end if;
  return (lpad(to_hex(v_ms::bigint), 12, '0') || '70008000000000000000')::uuid;
end
$$;

-- Monday 00:00 UTC of the ISO week containing p_ts, whatever the session time zone.
create or replace function absurd.week_bucket_utc(p_ts timestamptz) returns timestamptz
language sql immutable strict
as $$
  select date_trunc('week', p_ts at time zone 'UTC') at time zone 'UTC'
$$;

-- The three-character weekly partition tag: last digit of the ISO year, then the two-digit ISO week.
create or replace function absurd.partition_week_tag(p_ts timestamptz) returns text
language sql immutable strict
as $$
  select (extract(isoyear from absurd.week_bucket_utc(p_ts) at time zone 'UTC')::int % 10)::text
      || lpad(extract(week from absurd.week_bucket_utc(p_ts) at time zone 'UTC')::int::text, 2, '0')
$$;

-- The name check and registration check every maintenance entry point shares when given a queue.
create or replace function absurd.require_registered_queue(p_queue_name text) returns void
language plpgsql stable
as $$
begin
  perform absurd.validate_queue_name(p_queue_name);
  perform absurd.raise_if_unknown_queue(p_queue_name);
end
$$;

-- pg_cron is optional: callers that schedule or unschedule jobs say clearly which part is missing.
create or replace function absurd.require_pg_cron(p_need_schedule boolean, p_need_unschedule boolean) returns void
language plpgsql stable
as $$
begin
  if to_regclass('cron.job') is null then
    raise exception 'pg_cron is not available (missing cron.job)';
  end if;
  if p_need_schedule and not exists (
    select 1 from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'cron' and p.proname = 'schedule') then
    raise exception 'pg_cron is not available (missing cron.schedule)';
  end if;
  if p_need_unschedule and not exists (
    select 1 from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'cron' and p.proname = 'unschedule') then
    raise exception 'pg_cron is not available (missing cron.unschedule)';
  end if;
end
$$;

-- Job names carry a scope so queue-scoped and global jobs coexist: 'all', or 12 hex digits of md5(queue).
create or replace function absurd.cron_scope(p_queue_name text) returns text
language sql immutable
as $$
  select coalesce(substr(md5(p_queue_name), 1, 12), 'all')
$$;

-- Provisions weekly partitions ahead of time. Unpartitioned queues have none, so for them (and,
-- with no name, for a registry without partitioned queues) this checks its argument and returns.
create or replace function absurd.ensure_partitions(p_queue_name text default null) returns void
language plpgsql
as $$
begin
  if p_queue_name is not null then
    perform absurd.require_registered_queue(p_queue_name);
  end if;
end
$$;

-- Weekly partitions old and empty enough to detach. Only partitioned queues with detach_mode
-- 'empty' can have any; an unpartitioned queue gives no rows, which is not an error.
create or replace function absurd.list_detach_candidates(p_queue_name text default null)
returns table (queue_name text, parent_table text, partition_table text)
language plpgsql stable
as $$
begin
  if p_queue_name is not null then
    perform absurd.require_registered_queue(p_queue_name);
  end if;
  return;
end
$$;

-- Drops one weekly partition after it was detached, and retires the cron jobs of its detach
-- pipeline. Refuses tables not shaped like a weekly partition, so it cannot drop absurd's own tables;
-- a partition still attached, or already gone, gives false.
create or replace function absurd.drop_detached_partition(p_partition_table text, p_unschedule_job_name text default null)
returns boolean
language plpgsql
as $$
declare
  v_table text := btrim(p_partition_table);
  v_oid oid;
  v_paired text;
  v_has_cron boolean := to_regclass('cron.job') is not null;
begin
  if v_table is null or v_table = '' then
    raise exception 'partition table must be provided';
  end if;
  if v_table !~ '^[trcw]_.+_[0-9]{3}$' then
    raise exception 'drop_detached_partition drops only weekly partitions named <t|r|c|w>_<queue>_<week tag>, not %', quote_literal(v_table);
  end if;
  if starts_with(p_unschedule_job_name, 'absurd_drop_run_') then
    v_paired := 'absurd_detach_run_' || substr(p_unschedule_job_name, length('absurd_drop_run_') + 1);
  end if;
  select c.oid into v_oid from pg_catalog.pg_class c
  where c.relnamespace = 'absurd'::regnamespace and c.relname = v_table;
  if v_oid is null then
    if v_has_cron and p_unschedule_job_name is not null then
      perform absurd.unschedule_jobs_named(array[p_unschedule_job_name, v_paired]);
    end if;
    return false;
  end if;
  if exists (select 1 from pg_catalog.pg_inherits i where i.inhrelid = v_oid) then
    return false;
  end if;
  if v_has_cron and v_paired is not null then
    perform absurd.unschedule_jobs_named(array[v_paired]);
  end if;
  execute format('drop table absurd.%I', v_table);
  if v_has_cron and p_unschedule_job_name is not null then
    perform absurd.unschedule_jobs_named(array[p_unschedule_job_name]);
  end if;
  return true;
end
$$;

-- Unschedules, by job id, every cron job with one of these names (pg_cron's mocks and old versions
-- have no by-name form), returning what was removed in (name, id) order.
create or replace function absurd.unschedule_jobs_named(p_names text[])
returns table (job_name text, job_id bigint)
language plpgsql
as $$
declare
  v_job record;
begin
  for v_job in execute 'select jobname::text as jobname, jobid::bigint as jobid from cron.job
                        where jobname = any($1) order by jobname, jobid' using p_names
  loop
    execute 'select cron.unschedule($1)' using v_job.jobid;
    job_name := v_job.jobname;
    job_id := v_job.jobid;
    return next;
  end loop;
end
$$;

-- Plans the per-partition detach and drop jobs from list_detach_candidates. An unpartitioned queue
-- has no candidates, so after the pg_cron and queue checks there is nothing to schedule.
create or replace function absurd.schedule_detach_jobs(p_queue_name text default null)
returns table (job_name text, job_id bigint, queue_name text, partition_table text, job_kind text)
language plpgsql
as $$
begin
  if p_queue_name is not null then
    perform absurd.validate_queue_name(p_queue_name);
  end if;
  perform absurd.require_pg_cron(true, true);
  perform 1 from absurd.list_detach_candidates(p_queue_name);
  return;
end
$$;

-- Installs (or replaces) the three periodic maintenance jobs of one queue, or of all queues when
-- p_queue_name is null: partition provisioning, policy cleanup and the detach planner.
create or replace function absurd.enable_cron(
  p_queue_name text default null,
  p_partition_schedule text default '5 * * * *',
  p_cleanup_schedule text default '17 * * * *',
  p_detach_schedule text default '29 * * * *'
)
returns table (job_name text, job_id bigint)
language plpgsql
as $$
declare
  v_scope text := absurd.cron_scope(p_queue_name);
  v_literal text := coalesce(quote_literal(p_queue_name), 'null::text');
  v_job record;
begin
  if p_queue_name is not null then
    perform absurd.require_registered_queue(p_queue_name);
  end if;
  if nullif(btrim(p_partition_schedule), '') is null then
    raise exception 'Partition schedule must be provided';
  end if;
  if nullif(btrim(p_cleanup_schedule), '') is null then
    raise exception 'Cleanup schedule must be provided';
  end if;
  if nullif(btrim(p_detach_schedule), '') is null then
    raise exception 'Detach schedule must be provided';
  end if;
  perform absurd.require_pg_cron(true, true);
  perform absurd.unschedule_jobs_named(array[
    'absurd_partitions_' || v_scope, 'absurd_cleanup_' || v_scope, 'absurd_detach_plan_' || v_scope]);
  for v_job in
    select * from (values
      (1, 'absurd_partitions_' || v_scope, p_partition_schedule, format('select absurd.ensure_partitions(%s);', v_literal)),
      (2, 'absurd_cleanup_' || v_scope, p_cleanup_schedule, format('select * from absurd.cleanup_all_queues(%s);', v_literal)),
      (3, 'absurd_detach_plan_' || v_scope, p_detach_schedule, format('select * from absurd.schedule_detach_jobs(%s);', v_literal))
    ) as j(position, name, schedule, command)
    order by j.position
  loop
    job_name := v_job.name;
    execute 'select cron.schedule($1, $2, $3)::bigint' into job_id using v_job.name, v_job.schedule, v_job.command;
    return next;
  end loop;
end
$$;

-- Removes every job of one scope: the three maintenance jobs and any detach/drop run jobs. The queue
-- need not be registered any more, so this also cleans up after a dropped queue.
create or replace function absurd.disable_cron(p_queue_name text default null)
returns table (job_name text, job_id bigint)
language plpgsql
as $$
declare
  v_scope text := absurd.cron_scope(p_queue_name);
  v_names text[];
begin
  if p_queue_name is not null then
    perform absurd.validate_queue_name(p_queue_name);
  end if;
  perform absurd.require_pg_cron(false, true);
  execute 'select coalesce(array_agg(jobname::text), ''{}'') from cron.job
           where jobname = any($1) or starts_with(jobname, $2) or starts_with(jobname, $3)'
    into v_names
    using array['absurd_partitions_' || v_scope, 'absurd_cleanup_' || v_scope, 'absurd_detach_plan_' || v_scope],
          'absurd_detach_run_' || v_scope || '_', 'absurd_drop_run_' || v_scope || '_';
  return query select * from absurd.unschedule_jobs_named(v_names);
end
$$;
