-- Stream chunks are stored a batch to a row.
--
-- An append wrote one row per chunk, so a fast 2,000-delta answer cost 2,000 index entries and tuples in its
-- commit, more than the rest of publishing together. A row of ai_sdk_absurd.stream_batches now holds the
-- chunks of one append as a jsonb array, numbered from first_index to last_index. Chunk indexes, the
-- ordering of appends and what readers see are unchanged; ai_sdk_absurd.stream_chunks becomes a view that
-- shows one row per chunk, as the table did, and batch_last_index lets a reader skip whole batches.

create table if not exists ai_sdk_absurd.stream_batches (
  queue_name text not null,
  task_id uuid not null,
  first_index integer not null check (first_index >= 0),
  last_index integer not null,
  run_id uuid,
  chunks jsonb not null check (jsonb_typeof(chunks) = 'array'),
  created_at timestamptz not null default absurd.current_time(),
  primary key (queue_name, task_id, first_index),
  check (last_index = first_index + jsonb_array_length(chunks) - 1)
);

-- Every stored chunk moves over as a batch of its own, so indexes, runs and times are kept.
insert into ai_sdk_absurd.stream_batches (queue_name, task_id, first_index, last_index, run_id, chunks, created_at)
select s.queue_name, s.task_id, s.chunk_index, s.chunk_index, s.run_id, jsonb_build_array(s.chunk), s.created_at
from ai_sdk_absurd.stream_chunks s;

drop table ai_sdk_absurd.stream_chunks;

-- One row per chunk, as the table was; filter on batch_last_index to read from an index without
-- expanding the batches before it.
create view ai_sdk_absurd.stream_chunks as
select b.queue_name, b.task_id, b.first_index + (e.ordinality - 1)::integer as chunk_index, b.run_id, e.value as chunk,
       b.created_at, b.last_index as batch_last_index
from ai_sdk_absurd.stream_batches b
cross join lateral jsonb_array_elements(b.chunks) with ordinality as e(value, ordinality);

-- A dropped queue takes its stream rows with it.
create or replace function ai_sdk_absurd.delete_queue_stream_chunks() returns trigger
language plpgsql
as $$
begin
  delete from ai_sdk_absurd.stream_batches s where s.queue_name = old.queue_name;
  return old;
end
$$;

-- Appends chunks after the task's last one as one batch row, for the run that owns the task, and wakes
-- its readers; returns the index of the first appended chunk.
create or replace function ai_sdk_absurd.append_stream_chunks(p_queue_name text, p_task_id uuid, p_run_id uuid, p_chunks jsonb)
returns integer
language plpgsql
as $$
declare
  v_next integer;
  v_count integer;
  v_run_state text;
  v_task_state text;
begin
  perform absurd.share_queue_definition(p_queue_name);
  perform absurd.raise_if_unknown_queue(p_queue_name);
  perform pg_advisory_xact_lock(hashtextextended(p_queue_name || ':' || p_task_id::text, 0));
  -- A null run is an append from outside any run (tooling, imports): there is no owner to check.
  if p_run_id is not null then
    execute format('select r.state, t.state from absurd.%I r join absurd.%I t on t.task_id = r.task_id
                    where r.run_id = $1 and r.task_id = $2',
                   'r_' || p_queue_name, 't_' || p_queue_name)
      into v_run_state, v_task_state using p_run_id, p_task_id;
    if v_run_state is null then
      raise exception 'run % of task % not found in queue %; its stream chunks were not written', p_run_id, p_task_id, quote_literal(p_queue_name);
    end if;
    if v_task_state = 'cancelled' then
      raise exception 'task of run % has been cancelled; its stream chunks were not written', p_run_id using errcode = 'AB001';
    end if;
    if v_run_state <> 'running' then
      raise exception 'run % is %, not running (its claim may have expired); its stream chunks were not written', p_run_id, v_run_state
        using errcode = 'AB002';
    end if;
  end if;
  select b.last_index + 1 into v_next
  from ai_sdk_absurd.stream_batches b
  where b.queue_name = p_queue_name and b.task_id = p_task_id
  order by b.first_index desc
  limit 1;
  v_next := coalesce(v_next, 0);
  v_count := jsonb_array_length(p_chunks);
  if v_count > 0 then
    insert into ai_sdk_absurd.stream_batches (queue_name, task_id, first_index, last_index, run_id, chunks)
    values (p_queue_name, p_task_id, v_next, v_next + v_count - 1, p_run_id, p_chunks);
    perform pg_notify('absurd_stream', p_task_id::text);
  end if;
  return v_next;
end
$$;

-- Replaces the agent chunks (not data-* parts) stored at indexes p_from_index to p_to_index - 1 with
-- p_marker in place, so a superseded step's chunks are never read again and later indexes stay put.
create or replace function ai_sdk_absurd.void_stream_chunks(
  p_queue_name text, p_task_id uuid, p_from_index integer, p_to_index integer, p_marker jsonb
) returns void
language sql
as $$
  update ai_sdk_absurd.stream_batches b
  set chunks = (
    select jsonb_agg(
      case when b.first_index + (e.ordinality - 1)::integer >= p_from_index
             and b.first_index + (e.ordinality - 1)::integer < p_to_index
             and e.value->>'type' not like 'data-%'
           then p_marker else e.value end
      order by e.ordinality)
    from jsonb_array_elements(b.chunks) with ordinality as e(value, ordinality)
  )
  where b.queue_name = p_queue_name and b.task_id = p_task_id
    and b.last_index >= p_from_index and b.first_index < p_to_index
$$;

-- As in 0015, with the stream rows now in stream_batches: deletes up to p_limit finished tasks older
-- than the ttl with all their rows, oldest first (on a partitioned queue also their idempotency keys).
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
    chunks as (delete from ai_sdk_absurd.stream_batches s using doomed d where s.queue_name = $3 and s.task_id = d.task_id),
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

