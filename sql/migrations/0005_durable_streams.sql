-- Durable UI message streams.
--
-- A task's agent writes the UI message chunks it produces here, numbered from 0 in the order they
-- were produced, so a reader can replay a stream from any index and then follow it live. Each
-- append notifies the channel absurd_stream with the task id so live readers wake at once.
-- Rows go with their queue (foreign key); readers treat a task that no longer exists as unknown.

create schema if not exists ai_sdk_absurd;

create table if not exists ai_sdk_absurd.stream_chunks (
  queue_name text not null references absurd.queues (queue_name) on delete cascade,
  task_id uuid not null,
  chunk_index integer not null check (chunk_index >= 0),
  run_id uuid,
  chunk jsonb not null,
  created_at timestamptz not null default absurd.current_time(),
  primary key (queue_name, task_id, chunk_index)
);

-- Appends a batch of chunks after the last stored one in one statement and wakes live readers;
-- returns the index of the first appended chunk. The task row is locked so appends never interleave.
create or replace function ai_sdk_absurd.append_stream_chunks(p_queue_name text, p_task_id uuid, p_run_id uuid, p_chunks jsonb)
returns integer
language plpgsql
as $$
declare
  v_next integer;
begin
  perform pg_advisory_xact_lock(hashtextextended(p_queue_name || ':' || p_task_id::text, 0));
  select coalesce(max(s.chunk_index) + 1, 0) into v_next
  from ai_sdk_absurd.stream_chunks s
  where s.queue_name = p_queue_name and s.task_id = p_task_id;
  insert into ai_sdk_absurd.stream_chunks (queue_name, task_id, chunk_index, run_id, chunk)
  select p_queue_name, p_task_id, v_next + (e.ordinality - 1)::integer, p_run_id, e.value
  from jsonb_array_elements(p_chunks) with ordinality as e(value, ordinality);
  perform pg_notify('absurd_stream', p_task_id::text);
  return v_next;
end
$$;

-- Redefined from 0001 with one more step: the stream chunks of the removed tasks go with them
-- (cleanup_all_queues calls this, so it removes them too). Everything else is unchanged.
create or replace function absurd.cleanup_tasks(p_queue_name text, p_ttl_seconds integer, p_limit integer default null)
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
    chunks as (delete from ai_sdk_absurd.stream_chunks s using doomed d where s.queue_name = $3 and s.task_id = d.task_id),
    tasks as (delete from absurd.%1$I t using doomed d where t.task_id = d.task_id returning 1)
    select count(*)::integer from tasks
  $q$, 't_' || p_queue_name, 'r_' || p_queue_name, 'w_' || p_queue_name, 'c_' || p_queue_name)
  into v_deleted
  using absurd.current_time() - make_interval(secs => p_ttl_seconds), v_limit, p_queue_name;
  return v_deleted;
exception when undefined_table then
  perform absurd.raise_if_unknown_queue(p_queue_name);
  raise;
end
$$;
