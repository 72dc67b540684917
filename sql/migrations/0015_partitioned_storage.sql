-- Partitioned queue storage, and the maintenance functions that now have work to do.
--
-- A queue created with storage mode 'partitioned' keeps its tasks, runs, checkpoints and waits in
-- range-partitioned parents t_/r_/c_/w_<queue>, split by week on the UUIDv7 key (task_id for tasks and
-- checkpoints, run_id for runs and waits) into children <prefix>_<queue>_<week tag>, with a catch-all
-- DEFAULT child <prefix>_<queue>_d for keys outside every provisioned week. Old weeks are retired by
-- detaching and dropping whole children instead of deleting rows. A unique index on a partitioned
-- table must contain the partition key, so idempotency keys live in their own table i_<queue>.
-- Partitions are only ever created by create_queue, ensure_partitions and set_queue_policy, never on
-- the hot path: a row for a week nobody provisioned goes to the DEFAULT child (or fails when it is
-- disabled). Unpartitioned queues keep their tables and behaviour exactly.

-- The table maker of the earlier migrations keeps making unpartitioned queues under its new name;
-- ensure_queue_tables below picks one of the two by the queue's storage mode.
alter function absurd.ensure_queue_tables(text) rename to ensure_unpartitioned_queue_tables;

-- Same for the spawn generator. The other generated functions work through partitioned parents
-- unchanged; spawn's idempotency check needs i_<queue> (see ensure_partitioned_spawn_function).
alter function absurd.ensure_queue_spawn_function(text) rename to ensure_unpartitioned_spawn_function;

-- Whether a queue is registered with partitioned storage (an unregistered name is not).
create or replace function absurd.is_partitioned_queue(p_queue_name text) returns boolean
language sql stable
as $$
  select exists (select 1 from absurd.queues q where q.queue_name = p_queue_name and q.storage_mode = 'partitioned')
$$;

-- The upper bound of a weekly child, from its partition bound text ("FOR VALUES FROM (...) TO ('<uuid>')"),
-- as the instant it encodes; null for the DEFAULT child and for bounds that are not UUIDv7.
create or replace function absurd.partition_upper_bound_at(p_bound text) returns timestamptz
language sql immutable strict
as $$
  select absurd.uuidv7_timestamp(
    substring(p_bound from $re$TO \('([0-9a-fA-F-]{36})'(?:::uuid)?\)$re$)::uuid)
$$;

-- Creates a partitioned queue's tables: the four range-partitioned parents with the same columns,
-- defaults and checks as unpartitioned tables (idempotency_key is kept on t_ but is not unique), the
-- ordinary event table, and i_<queue>, which makes idempotency keys unique. Keys carry the names
-- PostgreSQL chooses (<table>_pkey), as on unpartitioned queues. Indexes are declared on the parents,
-- so PostgreSQL gives every child its own copy. Safe to repeat.
create or replace function absurd.ensure_partitioned_queue_tables(p_queue_name text) returns void
language plpgsql
as $$
declare
  v_t text := 't_' || p_queue_name;
  v_r text := 'r_' || p_queue_name;
  v_c text := 'c_' || p_queue_name;
  v_e text := 'e_' || p_queue_name;
  v_w text := 'w_' || p_queue_name;
  v_i text := 'i_' || p_queue_name;
begin
  execute format($q$
    create table if not exists absurd.%1$I (
      task_id uuid not null,
      task_name text not null,
      params jsonb not null,
      headers jsonb,
      retry_strategy jsonb,
      max_attempts integer,
      cancellation jsonb,
      enqueue_at timestamptz not null default absurd.current_time(),
      first_started_at timestamptz,
      state text not null check (state in ('pending', 'running', 'sleeping', 'completed', 'failed', 'cancelled')),
      attempts integer not null default 0,
      last_attempt_run uuid,
      completed_payload jsonb,
      cancelled_at timestamptz,
      idempotency_key text,
      cancel_deadline timestamptz,
      primary key (task_id)
    ) partition by range (task_id)$q$, v_t);
  execute format('create index if not exists %I on absurd.%I (cancel_deadline) where cancel_deadline is not null',
    v_t || '_cdi', v_t);

  execute format($q$
    create table if not exists absurd.%1$I (
      run_id uuid not null,
      task_id uuid not null,
      attempt integer not null,
      state text not null check (state in ('pending', 'running', 'sleeping', 'completed', 'failed', 'cancelled')),
      claimed_by text,
      claim_expires_at timestamptz,
      available_at timestamptz not null,
      wake_event text,
      event_payload jsonb,
      started_at timestamptz,
      completed_at timestamptz,
      failed_at timestamptz,
      result jsonb,
      failure_reason jsonb,
      created_at timestamptz not null default absurd.current_time(),
      primary key (run_id)
    ) partition by range (run_id)$q$, v_r);
  execute format($q$create index if not exists %I on absurd.%I (available_at, run_id)
    where state in ('pending', 'sleeping')$q$, v_r || '_sai', v_r);
  execute format('create index if not exists %I on absurd.%I (task_id)', v_r || '_ti', v_r);
  execute format($q$create index if not exists %I on absurd.%I (claim_expires_at)
    where state = 'running' and claim_expires_at is not null$q$, v_r || '_cei', v_r);

  execute format($q$
    create table if not exists absurd.%1$I (
      task_id uuid not null,
      checkpoint_name text not null,
      state jsonb,
      status text not null default 'committed',
      owner_run_id uuid,
      owner_attempt integer,
      updated_at timestamptz not null default absurd.current_time(),
      primary key (task_id, checkpoint_name)
    ) partition by range (task_id)$q$, v_c);

  execute format($q$
    create table if not exists absurd.%1$I (
      event_name text not null,
      payload jsonb,
      emitted_at timestamptz not null default absurd.current_time(),
      primary key (event_name)
    )$q$, v_e);
  execute format('create index if not exists %I on absurd.%I (emitted_at)', v_e || '_eai', v_e);

  execute format($q$
    create table if not exists absurd.%1$I (
      run_id uuid not null,
      step_name text not null,
      task_id uuid not null,
      event_name text not null,
      timeout_at timestamptz,
      created_at timestamptz not null default absurd.current_time(),
      primary key (run_id, step_name)
    ) partition by range (run_id)$q$, v_w);
  execute format('create index if not exists %I on absurd.%I (event_name)', v_w || '_eni', v_w);
  execute format('create index if not exists %I on absurd.%I (task_id)', v_w || '_ti', v_w);

  execute format($q$
    create table if not exists absurd.%1$I (
      idempotency_key text not null,
      task_id uuid not null,
      primary key (idempotency_key)
    )$q$, v_i);
  execute format('create index if not exists %I on absurd.%I (task_id)', v_i || '_ti', v_i);
  -- Children take the parent's column compression when they are created, not when it changes later.
  perform absurd.ensure_queue_compression(p_queue_name);
end
$$;

-- Creates one child of a partitioned parent unless a relation of its name exists. The first child
-- a call creates takes the queue's definition lock, so provisioning runs between the queue's claims
-- and spawns, never in the middle of one, and two provisioners of one queue take turns. A name held
-- by something else (the same tag ten years earlier, or a detached child never dropped) leaves that
-- week to the DEFAULT child, with a warning. Returns whether the lock is now held.
create or replace function absurd.create_partition_if_missing(
  p_queue_name text, p_parent text, p_child text, p_bound text, p_locked boolean
) returns boolean
language plpgsql
as $$
declare
  v_existing regclass := to_regclass(format('absurd.%I', p_child));
begin
  if v_existing is not null then
    if not exists (
      select 1 from pg_catalog.pg_inherits i join pg_catalog.pg_class c on c.oid = i.inhrelid
      where i.inhrelid = v_existing and i.inhparent = to_regclass(format('absurd.%I', p_parent))
        and lower(pg_catalog.pg_get_expr(c.relpartbound, c.oid)) = lower(p_bound)) then
      raise warning 'table absurd.% exists but is not the partition of absurd.% %; rows of that week go to the default partition',
        quote_ident(p_child), quote_ident(p_parent), p_bound
        using hint = 'Detach and drop the old table once it is empty (absurd.list_detach_candidates), then run absurd.ensure_partitions again.';
    end if;
    return p_locked;
  end if;
  if not p_locked then
    perform absurd.lock_queue_definition(p_queue_name);
    if to_regclass(format('absurd.%I', p_child)) is not null then
      return true;
    end if;
  end if;
  execute format('create table absurd.%I partition of absurd.%I %s', p_child, p_parent, p_bound);
  return true;
end
$$;

-- Creates the DEFAULT children (when the policy keeps them) and the weekly children of one queue's
-- window, from week_bucket_utc(now - lookback) up to and including week_bucket_utc(now + lookahead).
-- A child counts as present when a relation of its name exists; when nothing is missing no lock is taken.
create or replace function absurd.ensure_queue_partitions(p_queue_name text) returns void
language plpgsql
as $$
declare
  v_queue absurd.queues%rowtype;
  v_now timestamp := absurd.current_time() at time zone 'UTC';
  v_week timestamptz;
  v_last timestamptz;
  v_prefix text;
  v_locked boolean := false;
begin
  select * into v_queue from absurd.queues q where q.queue_name = p_queue_name;
  if not found or v_queue.storage_mode <> 'partitioned' then
    return;
  end if;
  v_week := absurd.week_bucket_utc((v_now - v_queue.partition_lookback) at time zone 'UTC');
  v_last := absurd.week_bucket_utc((v_now + v_queue.partition_lookahead) at time zone 'UTC');
  if v_queue.default_partition = 'enabled' then
    foreach v_prefix in array array['t_', 'r_', 'c_', 'w_'] loop
      v_locked := absurd.create_partition_if_missing(p_queue_name, v_prefix || p_queue_name,
        v_prefix || p_queue_name || '_d', 'default', v_locked);
    end loop;
  end if;
  while v_week <= v_last loop
    foreach v_prefix in array array['t_', 'r_', 'c_', 'w_'] loop
      v_locked := absurd.create_partition_if_missing(p_queue_name, v_prefix || p_queue_name,
        v_prefix || p_queue_name || '_' || absurd.partition_week_tag(v_week),
        format('for values from (%L) to (%L)', absurd.uuidv7_floor(v_week), absurd.uuidv7_floor(v_week + interval '168 hours')),
        v_locked);
    end loop;
    v_week := v_week + interval '168 hours';
  end loop;
end
$$;

-- Provisions weekly partitions ahead of time for one queue, or for every partitioned queue when no
-- name is given (a periodic job: absurd.enable_cron schedules it). Unpartitioned queues have no
-- partitions and are accepted without doing anything.
create or replace function absurd.ensure_partitions(p_queue_name text default null) returns void
language plpgsql
as $$
declare
  v_queue text;
begin
  if p_queue_name is not null then
    perform absurd.require_registered_queue(p_queue_name);
  end if;
  for v_queue in
    select q.queue_name from absurd.queues q
    where q.storage_mode = 'partitioned' and (p_queue_name is null or q.queue_name = p_queue_name)
    order by q.queue_name
  loop
    perform absurd.ensure_queue_partitions(v_queue);
  end loop;
end
$$;

-- Creates whatever a queue's storage mode needs and is missing (an unregistered name counts as
-- unpartitioned); for a partitioned queue that includes the partitions of the current window. Like
-- the earlier table maker it leaves name checks to create_queue, so legacy queues stay repairable.
create or replace function absurd.ensure_queue_tables(p_queue_name text) returns void
language plpgsql
as $$
begin
  if absurd.is_partitioned_queue(p_queue_name) then
    perform absurd.ensure_partitioned_queue_tables(p_queue_name);
    perform absurd.ensure_queue_partitions(p_queue_name);
  else
    perform absurd.ensure_unpartitioned_queue_tables(p_queue_name);
  end if;
end
$$;

-- Writes a partitioned queue's spawn function. Keys are claimed in i_<queue>
-- (its primary key decides races: a second spawn with the key waits for the first to commit, then
-- reads its task); the task row keeps a copy of the key. The found i_ row is locked FOR KEY SHARE,
-- so a concurrent cleanup cannot free the key before this transaction ends; if cleanup removed the
-- task in between, the caller gets a serialization failure and retries with the same key.
create or replace function absurd.ensure_partitioned_spawn_function(p_queue_name text) returns void
language plpgsql
as $$
begin
  execute format($tmpl$
    create or replace function absurd.%1$I(p_task_name text, p_params jsonb, p_options jsonb, p_now timestamptz)
    returns table (task_id uuid, run_id uuid, attempt integer, created boolean)
    language plpgsql
    set plan_cache_mode = force_generic_plan
    as $body$
    #variable_conflict use_column
    declare
      v_key text := p_options ->> 'idempotency_key';
      v_task_id uuid := absurd.portable_uuidv7(p_now);
      v_run_id uuid := absurd.portable_uuidv7(p_now);
      v_attempts integer;
      v_claimed uuid;
    begin
      if v_key is not null then
        insert into absurd.%4$I (idempotency_key, task_id) values (v_key, v_task_id)
        on conflict (idempotency_key) do nothing
        returning task_id into v_claimed;
        if v_claimed is null then
          select t.task_id, t.last_attempt_run, t.attempts into v_task_id, v_run_id, v_attempts
          from absurd.%4$I i join absurd.%2$I t on t.task_id = i.task_id
          where i.idempotency_key = v_key
          for key share of i;
          if not found then
            raise exception 'Idempotency key "%%" in queue "%%" was concurrently cleaned up', v_key, %5$L
              using errcode = 'serialization_failure', hint = 'Retry the spawn with the same idempotency key.';
          end if;
          if v_run_id is null then
            raise exception 'task %% found by idempotency key "%%" in queue "%%" resolved without a run', v_task_id, v_key, %5$L;
          end if;
          return query select v_task_id, v_run_id, v_attempts, false;
          return;
        end if;
      end if;
      with task as (
        insert into absurd.%2$I (task_id, task_name, params, headers, retry_strategy, max_attempts, cancellation,
                                 enqueue_at, state, attempts, last_attempt_run, idempotency_key, cancel_deadline)
        values (v_task_id, p_task_name, coalesce(p_params, 'null'::jsonb), nullif(p_options -> 'headers', 'null'::jsonb),
                nullif(p_options -> 'retry_strategy', 'null'::jsonb), ((p_options -> 'max_attempts') #>> '{}')::numeric::integer,
                nullif(p_options -> 'cancellation', 'null'::jsonb), p_now, 'pending', 1, v_run_id, v_key,
                absurd.cancel_deadline(p_options -> 'cancellation', p_now, null))
      )
      insert into absurd.%3$I (run_id, task_id, attempt, state, available_at, created_at)
      values (v_run_id, v_task_id, 1, 'pending', p_now, p_now);
      perform pg_notify('absurd_wakeup', %5$L);
      return query select v_task_id, v_run_id, 1, true;
    end
    $body$
  $tmpl$, absurd.queue_function_name(p_queue_name, 'spawn'), 't_' || p_queue_name, 'r_' || p_queue_name,
     'i_' || p_queue_name, p_queue_name);
end
$$;

-- Writes the queue's spawn function for its storage mode (an unregistered name counts as unpartitioned).
create or replace function absurd.ensure_queue_spawn_function(p_queue_name text) returns void
language plpgsql
as $$
begin
  if absurd.is_partitioned_queue(p_queue_name) then
    perform absurd.ensure_partitioned_spawn_function(p_queue_name);
  else
    perform absurd.ensure_unpartitioned_spawn_function(p_queue_name);
  end if;
end
$$;

-- Creates a queue in either storage mode; repeating it is harmless, re-checks the tables and, for a
-- partitioned queue, provisions the partitions of the current window.
create or replace function absurd.create_queue(p_queue_name text, p_storage_mode text) returns void
language plpgsql
as $$
declare
  v_mode text := lower(btrim(p_storage_mode));
  v_existing text;
begin
  perform absurd.validate_queue_name(p_queue_name);
  if v_mode is null or v_mode not in ('unpartitioned', 'partitioned') then
    raise exception 'unknown storage mode %; use ''unpartitioned'' or ''partitioned''', coalesce(quote_literal(p_storage_mode), 'NULL');
  end if;
  perform absurd.lock_queue_definition(p_queue_name);
  insert into absurd.queues (queue_name, storage_mode) values (p_queue_name, v_mode)
  on conflict (queue_name) do nothing;
  select q.storage_mode into v_existing from absurd.queues q where q.queue_name = p_queue_name for update;
  if v_existing <> v_mode then
    raise exception 'queue % already exists with storage mode %, not %', quote_literal(p_queue_name), v_existing, v_mode;
  end if;
  perform absurd.ensure_queue_tables(p_queue_name);
  perform absurd.ensure_queue_functions(p_queue_name);
  perform absurd.ensure_queue_compression(p_queue_name);
end
$$;

-- Unschedules every pg_cron job of one scope ('all' or a queue's md5 prefix): its three maintenance
-- jobs and its detach/drop run jobs. The caller checks that pg_cron is there.
create or replace function absurd.unschedule_scope_jobs(p_scope text)
returns table (job_name text, job_id bigint)
language plpgsql
as $$
declare
  v_names text[];
begin
  execute 'select coalesce(array_agg(jobname::text), ''{}'') from cron.job
           where jobname = any($1) or starts_with(jobname, $2) or starts_with(jobname, $3)'
    into v_names
    using array['absurd_partitions_' || p_scope, 'absurd_cleanup_' || p_scope, 'absurd_detach_plan_' || p_scope],
          'absurd_detach_run_' || p_scope || '_', 'absurd_drop_run_' || p_scope || '_';
  return query select * from absurd.unschedule_jobs_named(v_names);
end
$$;

-- Removes every job of one scope. The queue need not be registered any more, so this also cleans up
-- after a dropped queue.
create or replace function absurd.disable_cron(p_queue_name text default null)
returns table (job_name text, job_id bigint)
language plpgsql
as $$
begin
  if p_queue_name is not null then
    perform absurd.validate_queue_name(p_queue_name);
  end if;
  perform absurd.require_pg_cron(false, true);
  return query select * from absurd.unschedule_scope_jobs(absurd.cron_scope(p_queue_name));
end
$$;

-- Removes a registered queue with its tables (a partitioned parent takes its attached children with
-- it), its idempotency table, its generated functions and, when pg_cron is installed, its scheduled
-- jobs. Skips name validation (also for the jobs) so queues whose names later became invalid can still
-- be removed; an unregistered name is a no-op. Children detached earlier are standalone tables and stay.
create or replace function absurd.drop_queue(p_queue_name text) returns void
language plpgsql
as $$
declare
  v_prefix text;
  v_function regprocedure;
begin
  perform absurd.lock_queue_definition(p_queue_name);
  perform 1 from absurd.queues q where q.queue_name = p_queue_name for update;
  if not found then
    return;
  end if;
  if to_regclass('cron.job') is not null and exists (
    select 1 from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'cron' and p.proname = 'unschedule') then
    perform absurd.unschedule_scope_jobs(absurd.cron_scope(p_queue_name));
  end if;
  for v_function in
    select p.oid::regprocedure from pg_catalog.pg_proc p
    where p.pronamespace = 'absurd'::regnamespace
      and starts_with(p.proname::text, absurd.queue_function_name(p_queue_name, ''))
  loop
    execute format('drop function %s', v_function);
  end loop;
  foreach v_prefix in array array['i_', 'w_', 'e_', 'c_', 'r_', 't_'] loop
    execute format('drop table if exists absurd.%I cascade', v_prefix || p_queue_name);
  end loop;
  delete from absurd.queues q where q.queue_name = p_queue_name;
end
$$;

-- Parses one interval-valued policy key (PostgreSQL interval text, or a number of seconds), with
-- errors that name the key.
create or replace function absurd.policy_interval(p_policy jsonb, p_key text, p_current interval) returns interval
language plpgsql stable
as $$
declare
  v_value interval;
begin
  if not (p_policy ? p_key) then
    return p_current;
  end if;
  if jsonb_typeof(p_policy -> p_key) not in ('string', 'number') then
    raise exception 'queue policy key % must be an interval string such as ''30 days'', got %', p_key, p_policy -> p_key
      using errcode = case when jsonb_typeof(p_policy -> p_key) = 'null' then 'not_null_violation' else 'invalid_datetime_format' end;
  end if;
  begin
    v_value := (p_policy ->> p_key)::interval;
  exception when others then
    raise exception 'queue policy key % is not a valid interval: %', p_key, quote_literal(p_policy ->> p_key)
      using errcode = 'invalid_datetime_format',
            hint = 'Use PostgreSQL interval syntax such as ''30 days'' or ''12 hours'', or a number of seconds.';
  end;
  if v_value < interval '0' then
    raise exception 'queue policy key % must not be negative, got %', p_key, quote_literal(p_policy ->> p_key);
  end if;
  return v_value;
end
$$;

-- Detaches and drops the DEFAULT children of a partitioned queue, refusing (before any change) when
-- one holds rows: those rows would have nowhere to go.
create or replace function absurd.drop_default_partitions(p_queue_name text) returns void
language plpgsql
as $$
declare
  v_prefix text;
  v_child text;
  v_has_rows boolean;
begin
  foreach v_prefix in array array['t_', 'r_', 'c_', 'w_'] loop
    v_child := v_prefix || p_queue_name || '_d';
    if exists (select 1 from pg_catalog.pg_inherits i
               where i.inhrelid = to_regclass(format('absurd.%I', v_child))
                 and i.inhparent = to_regclass(format('absurd.%I', v_prefix || p_queue_name))) then
      execute format('lock table absurd.%I in access exclusive mode', v_child);
      execute format('select exists (select 1 from absurd.%I)', v_child) into v_has_rows;
      if v_has_rows then
        raise exception 'Cannot disable default_partition for queue "%": default partition "%" is not empty', p_queue_name, v_child
          using hint = 'Its rows belong to weeks without a partition of their own; delete them (or clean up the queue) first, or keep default_partition enabled.';
      end if;
      execute format('alter table absurd.%I detach partition absurd.%I', v_prefix || p_queue_name, v_child);
      execute format('drop table absurd.%I', v_child);
    end if;
  end loop;
end
$$;

-- Updates the keys present in the policy object and keeps the rest; unknown keys and values that
-- cannot be honoured are rejected before anything changes. Turning a partitioned queue's
-- default_partition off drops its (empty) DEFAULT children; turning it on recreates them.
create or replace function absurd.set_queue_policy(p_queue_name text, p_policy jsonb) returns void
language plpgsql
as $$
declare
  v_policy jsonb := coalesce(p_policy, '{}'::jsonb);
  v_queue absurd.queues%rowtype;
  v_unknown text;
  v_limit integer;
  v_detach text;
  v_default text;
begin
  perform absurd.validate_queue_name(p_queue_name);
  if jsonb_typeof(v_policy) <> 'object' then
    raise exception 'queue policy must be a JSON object, got %', v_policy::text;
  end if;
  select string_agg(quote_literal(k), ', ' order by k) into v_unknown
  from jsonb_object_keys(v_policy) k
  where k not in ('partition_lookahead', 'partition_lookback', 'cleanup_ttl', 'cleanup_limit', 'detach_mode',
                  'detach_min_age', 'default_partition');
  if v_unknown is not null then
    raise exception 'unknown queue policy key(s): %', v_unknown
      using hint = 'Allowed keys: partition_lookahead, partition_lookback, cleanup_ttl, cleanup_limit, detach_mode, detach_min_age, default_partition.';
  end if;
  -- Changing default_partition may create or drop tables: take the queue's definition lock before the
  -- registry row, in the order create_queue takes them.
  if v_policy ? 'default_partition' then
    perform absurd.lock_queue_definition(p_queue_name);
  end if;
  select * into v_queue from absurd.queues q where q.queue_name = p_queue_name for update;
  if not found then
    perform absurd.raise_if_unknown_queue(p_queue_name);
  end if;
  v_limit := v_queue.cleanup_limit;
  if v_policy ? 'cleanup_limit' then
    if jsonb_typeof(v_policy -> 'cleanup_limit') not in ('number', 'string')
       or (v_policy ->> 'cleanup_limit') !~ '^\s*[+-]?[0-9]{1,10}\s*$'
       or (v_policy ->> 'cleanup_limit')::numeric > 2147483647 then
      raise exception 'queue policy key cleanup_limit must be an integer >= 1, got %', v_policy -> 'cleanup_limit'
        using errcode = 'invalid_text_representation';
    end if;
    v_limit := (v_policy ->> 'cleanup_limit')::integer;
    if v_limit < 1 then
      raise exception 'queue policy key cleanup_limit must be an integer >= 1, got %', v_policy -> 'cleanup_limit';
    end if;
  end if;
  v_detach := v_queue.detach_mode;
  if v_policy ? 'detach_mode' then
    v_detach := lower(btrim(coalesce(v_policy ->> 'detach_mode', '')));
    if v_detach not in ('none', 'empty') then
      raise exception 'queue policy key detach_mode must be ''none'' or ''empty'', got %', v_policy -> 'detach_mode';
    end if;
  end if;
  v_default := v_queue.default_partition;
  if v_policy ? 'default_partition' then
    v_default := lower(btrim(coalesce(v_policy ->> 'default_partition', '')));
    if v_default not in ('enabled', 'disabled') then
      raise exception 'queue policy key default_partition must be ''enabled'' or ''disabled'', got %', v_policy -> 'default_partition';
    end if;
  end if;
  update absurd.queues q set
    partition_lookahead = absurd.policy_interval(v_policy, 'partition_lookahead', v_queue.partition_lookahead),
    partition_lookback = absurd.policy_interval(v_policy, 'partition_lookback', v_queue.partition_lookback),
    cleanup_ttl = absurd.policy_interval(v_policy, 'cleanup_ttl', v_queue.cleanup_ttl),
    detach_min_age = absurd.policy_interval(v_policy, 'detach_min_age', v_queue.detach_min_age),
    cleanup_limit = v_limit,
    detach_mode = v_detach
  where q.queue_name = p_queue_name;
  if v_policy ? 'default_partition' and v_queue.storage_mode <> 'partitioned' then
    raise exception 'queue policy key default_partition applies only to partitioned queues, and queue % is unpartitioned', quote_literal(p_queue_name)
      using hint = 'Leave default_partition out for this queue; only queues created with storage mode ''partitioned'' have default partitions.';
  end if;
  if v_default is distinct from v_queue.default_partition then
    update absurd.queues q set default_partition = v_default where q.queue_name = p_queue_name;
    if v_default = 'disabled' then
      perform absurd.drop_default_partitions(p_queue_name);
    else
      perform absurd.ensure_queue_partitions(p_queue_name);
    end if;
  end if;
end
$$;

-- Deletes up to p_limit finished tasks older than the ttl with all their rows, oldest first; on a
-- partitioned queue also their idempotency keys, which frees them for new spawns. Partitions are
-- only emptied, never detached or dropped.
create or replace function absurd.cleanup_tasks(p_queue_name text, p_ttl_seconds integer, p_limit integer default 1000)
returns integer
language plpgsql
as $$
declare
  v_limit integer;
  v_deleted integer;
  v_keys text := '';
begin
  v_limit := absurd.cleanup_batch_limit(p_queue_name, p_ttl_seconds, p_limit);
  if absurd.is_partitioned_queue(p_queue_name) then
    v_keys := format('keys as (delete from absurd.%I i using doomed d where i.task_id = d.task_id),', 'i_' || p_queue_name);
  end if;
  execute format($q$
    with doomed as (
      select t.task_id
      from absurd.%1$I t left join absurd.%2$I r on r.run_id = t.last_attempt_run
      where t.state in ('completed', 'failed', 'cancelled')
        and case t.state when 'completed' then r.completed_at when 'failed' then r.failed_at else t.cancelled_at end < $1
      order by case t.state when 'completed' then r.completed_at when 'failed' then r.failed_at else t.cancelled_at end
      limit $2
      for update of t skip locked
    ),
    waits as (delete from absurd.%3$I w using doomed d where w.task_id = d.task_id),
    checkpoints as (delete from absurd.%4$I c using doomed d where c.task_id = d.task_id),
    runs as (delete from absurd.%2$I r using doomed d where r.task_id = d.task_id),
    %5$s
    chunks as (delete from ai_sdk_absurd.stream_chunks s using doomed d where s.queue_name = $3 and s.task_id = d.task_id),
    approvals as (delete from ai_sdk_absurd.tool_approvals a using doomed d where a.queue_name = $3 and a.task_id = d.task_id),
    lineage as (
      delete from ai_sdk_absurd.task_children l using doomed d
      where (l.child_queue = $3 and l.child_task_id = d.task_id) or (l.parent_queue = $3 and l.parent_task_id = d.task_id)
    ),
    tasks as (delete from absurd.%1$I t using doomed d where t.task_id = d.task_id returning 1)
    select count(*)::integer from tasks
  $q$, 't_' || p_queue_name, 'r_' || p_queue_name, 'w_' || p_queue_name, 'c_' || p_queue_name, v_keys)
  into v_deleted
  using absurd.current_time() - make_interval(secs => p_ttl_seconds), v_limit, p_queue_name;
  return v_deleted;
exception when undefined_table then
  perform absurd.raise_if_unknown_queue(p_queue_name);
  raise;
end
$$;

-- Deletes up to p_limit events emitted before the ttl (placeholders carry the epoch and go first).
create or replace function absurd.cleanup_events(p_queue_name text, p_ttl_seconds integer, p_limit integer default 1000)
returns integer
language plpgsql
as $$
declare
  v_limit integer;
  v_deleted integer;
begin
  v_limit := absurd.cleanup_batch_limit(p_queue_name, p_ttl_seconds, p_limit);
  execute format($q$
    with doomed as (
      select e.event_name from absurd.%1$I e where e.emitted_at < $1 order by e.emitted_at limit $2 for update skip locked
    ),
    gone as (delete from absurd.%1$I e using doomed d where e.event_name = d.event_name returning 1)
    select count(*)::integer from gone
  $q$, 'e_' || p_queue_name)
  into v_deleted
  using absurd.current_time() - make_interval(secs => p_ttl_seconds), v_limit;
  return v_deleted;
exception when undefined_table then
  perform absurd.raise_if_unknown_queue(p_queue_name);
  raise;
end
$$;

-- Applies each queue's own cleanup_ttl (whole seconds, months as 30 days) and cleanup_limit, one
-- batch per queue and one row per queue even when nothing was deleted; for a periodic job.
create or replace function absurd.cleanup_all_queues(p_queue_name text default null)
returns table (queue_name text, tasks_deleted integer, events_deleted integer)
language plpgsql
as $$
declare
  v_queue record;
  v_ttl integer;
begin
  if p_queue_name is not null then
    perform absurd.require_registered_queue(p_queue_name);
  end if;
  for v_queue in
    select q.queue_name, q.cleanup_ttl, q.cleanup_limit from absurd.queues q
    where p_queue_name is null or q.queue_name = p_queue_name
    order by q.queue_name
  loop
    v_ttl := greatest(least(floor(extract(epoch from v_queue.cleanup_ttl)), 2147483647), 0)::integer;
    queue_name := v_queue.queue_name;
    tasks_deleted := absurd.cleanup_tasks(v_queue.queue_name, v_ttl, v_queue.cleanup_limit);
    events_deleted := absurd.cleanup_events(v_queue.queue_name, v_ttl, v_queue.cleanup_limit);
    return next;
  end loop;
end
$$;

-- Weekly children old and empty enough to detach: attached, not the DEFAULT child, with an upper
-- bound strictly before now - detach_min_age, and no rows. Only partitioned queues with detach_mode
-- 'empty' have any; other queues give no rows, which is not an error. Read-only.
create or replace function absurd.list_detach_candidates(p_queue_name text default null)
returns table (queue_name text, parent_table text, partition_table text)
language plpgsql stable
as $$
declare
  v_queue record;
  v_prefix text;
  v_parent regclass;
  v_child record;
  v_empty boolean;
begin
  if p_queue_name is not null then
    perform absurd.require_registered_queue(p_queue_name);
  end if;
  for v_queue in
    select q.queue_name, absurd.current_time() - q.detach_min_age as cutoff from absurd.queues q
    where q.storage_mode = 'partitioned' and q.detach_mode = 'empty'
      and (p_queue_name is null or q.queue_name = p_queue_name)
    order by q.queue_name
  loop
    foreach v_prefix in array array['t_', 'r_', 'c_', 'w_'] loop
      v_parent := to_regclass(format('absurd.%I', v_prefix || v_queue.queue_name));
      continue when v_parent is null;
      for v_child in
        select c.relname::text as name, absurd.partition_upper_bound_at(pg_catalog.pg_get_expr(c.relpartbound, c.oid)) as upper_at
        from pg_catalog.pg_inherits i join pg_catalog.pg_class c on c.oid = i.inhrelid
        where i.inhparent = v_parent
        order by 2, 1
      loop
        continue when v_child.upper_at is null or not (v_child.upper_at < v_queue.cutoff);
        execute format('select not exists (select 1 from absurd.%I)', v_child.name) into v_empty;
        if v_empty then
          queue_name := v_queue.queue_name;
          parent_table := v_prefix || v_queue.queue_name;
          partition_table := v_child.name;
          return next;
        end if;
      end loop;
    end loop;
  end loop;
end
$$;

-- Plans the detach pipeline of each parent's oldest candidate as two pg_cron jobs that run every
-- minute: one detaches the child (concurrently when the parent has no DEFAULT child, which
-- PostgreSQL requires for that), the other drops it once detached and then unschedules both. At
-- most one pipeline runs per parent; a parent whose jobs are still there is skipped.
create or replace function absurd.schedule_detach_jobs(p_queue_name text default null)
returns table (job_name text, job_id bigint, queue_name text, partition_table text, job_kind text)
language plpgsql
as $$
declare
  v_scope text := absurd.cron_scope(p_queue_name);
  v_candidate record;
  v_parent_key text;
  v_candidate_key text;
  v_detach_name text;
  v_drop_name text;
  v_busy boolean;
  v_command text;
begin
  if p_queue_name is not null then
    perform absurd.validate_queue_name(p_queue_name);
  end if;
  perform absurd.require_pg_cron(true, true);
  for v_candidate in
    select distinct on (l.queue_name, l.parent_table) l.queue_name, l.parent_table, l.partition_table
    from absurd.list_detach_candidates(p_queue_name) l
    join pg_catalog.pg_class c on c.relname = l.partition_table and c.relnamespace = 'absurd'::regnamespace
    order by l.queue_name, l.parent_table,
             absurd.partition_upper_bound_at(pg_catalog.pg_get_expr(c.relpartbound, c.oid)), l.partition_table
  loop
    v_parent_key := substr(md5(v_candidate.parent_table), 1, 8);
    v_candidate_key := substr(md5(v_candidate.parent_table || ':' || v_candidate.partition_table), 1, 12);
    v_detach_name := 'absurd_detach_run_' || v_scope || '_' || v_parent_key || '_' || v_candidate_key;
    v_drop_name := 'absurd_drop_run_' || v_scope || '_' || v_parent_key || '_' || v_candidate_key;
    execute 'select exists (select 1 from cron.job where jobname ~ $1)' into v_busy
      using '^absurd_(detach|drop)_run_.+_' || v_parent_key || '_';
    continue when v_busy;
    v_command := format('alter table absurd.%I detach partition absurd.%I', v_candidate.parent_table, v_candidate.partition_table);
    if not exists (
      select 1 from pg_catalog.pg_inherits i join pg_catalog.pg_class c on c.oid = i.inhrelid
      where i.inhparent = to_regclass(format('absurd.%I', v_candidate.parent_table))
        and pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT') then
      v_command := v_command || ' concurrently';
    end if;
    queue_name := v_candidate.queue_name;
    partition_table := v_candidate.partition_table;
    job_name := v_detach_name;
    job_kind := 'detach';
    execute 'select cron.schedule($1, $2, $3)::bigint' into job_id using v_detach_name, '* * * * *', v_command;
    return next;
    job_name := v_drop_name;
    job_kind := 'drop';
    execute 'select cron.schedule($1, $2, $3)::bigint' into job_id using v_drop_name, '* * * * *',
      format('select absurd.drop_detached_partition(%L, %L);', v_candidate.partition_table, v_drop_name);
    return next;
  end loop;
end
$$;

-- Queues created before this migration are all unpartitioned; their functions and tables stay as they are.
