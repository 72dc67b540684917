-- Claims and spawns wait while their queue is being created or dropped, and a drop waits for them.
--
-- 0004 serialised createQueue and dropQueue of one queue with an advisory lock, but a worker polling that
-- queue took its table locks in another order than a drop, and the two deadlocked (40P01) on both sides.
-- A claim or spawn now takes the same advisory lock in shared mode before touching the queue's tables:
-- it runs before or after a definition change, never in the middle, and never holds a table a drop needs
-- while waiting for it.

-- The shared side of the queue's definition lock (lock_queue_definition is the exclusive side).
create or replace function absurd.share_queue_definition(p_queue_name text) returns void
language sql
as $$
  select pg_advisory_xact_lock_shared(hashtext('absurd.queue_definition'), hashtext(p_queue_name))
$$;

-- As in 0001, after taking the queue's definition lock in shared mode.
create or replace function absurd.claim_task(p_queue_name text, p_worker_id text, p_claim_timeout integer default 30, p_qty integer default 1)
returns table (
  run_id uuid, task_id uuid, attempt integer, task_name text, params jsonb, retry_strategy jsonb,
  max_attempts integer, headers jsonb, wake_event text, event_payload jsonb
)
language plpgsql
as $$
begin
  perform absurd.share_queue_definition(p_queue_name);
  return query execute format('select * from %s($1, $2, $3, $4)', absurd.queue_function(p_queue_name, 'claim'))
    using absurd.current_time(), coalesce(nullif(btrim(p_worker_id), ''), 'worker'),
          greatest(coalesce(p_claim_timeout, 30), 0), greatest(coalesce(p_qty, 1), 1);
end
$$;

-- As in 0001, after taking the queue's definition lock in shared mode.
create or replace function absurd.spawn_task(p_queue_name text, p_task_name text, p_params jsonb, p_options jsonb default '{}')
returns table (task_id uuid, run_id uuid, attempt integer, created boolean)
language plpgsql
as $$
declare
  v_options jsonb := coalesce(p_options, '{}'::jsonb);
begin
  if p_task_name is null or btrim(p_task_name) = '' then
    raise exception 'task_name must be a non-blank string';
  end if;
  perform absurd.validate_spawn_options(v_options);
  perform absurd.share_queue_definition(p_queue_name);
  return query execute format('select * from %s($1, $2, $3, $4)', absurd.queue_function(p_queue_name, 'spawn'))
    using p_task_name, p_params, v_options, absurd.current_time();
  if not found then
    raise exception 'could not spawn task with idempotency key % in queue %: the key kept changing hands',
      v_options ->> 'idempotency_key', quote_literal(p_queue_name)
      using errcode = 'serialization_failure', hint = 'Retry the spawn.';
  end if;
end
$$;
