-- Replay loads the client can inline, and faster compression of stored JSON.
--
-- get_task_checkpoint_states checks its arguments and dispatches to the queue's PL/pgSQL function,
-- which materialises every row twice on its way out; for a run with a thousand checkpoints that
-- costs more than the read itself. Each queue gets a plain SQL function with the same visibility
-- rule that the planner inlines into the caller's query, so rows stream straight from the tables.
-- The client that has just claimed a run calls it for the run's load; every other caller keeps
-- using get_task_checkpoint_states and its argument checks.

-- Writes the queue's replay function: the checkpoints a run may replay (committed, written by an
-- attempt up to its own or by no attempt), oldest first, names and states only. A run that does not
-- exist or belongs to another task yields no rows: the join on the run is the only check, which is
-- all a client that claimed the run needs. SQL, stable and without SET clauses, so it is inlined.
create or replace function absurd.ensure_queue_replay_function(p_queue_name text) returns void
language plpgsql
as $$
begin
  execute format($tmpl$
    create or replace function absurd.%1$I(p_task_id uuid, p_run_id uuid)
    returns table (checkpoint_name text, state jsonb)
    language sql
    stable
    as $body$
      select c.checkpoint_name, c.state
      from absurd.%3$I r
      join absurd.%2$I c on c.task_id = r.task_id
      where r.run_id = p_run_id and r.task_id = p_task_id and c.status = 'committed'
        and coalesce(c.owner_attempt, (select o.attempt from absurd.%3$I o where o.run_id = c.owner_run_id), 0)
            <= r.attempt
      order by c.updated_at, c.checkpoint_name
    $body$
  $tmpl$, absurd.queue_function_name(p_queue_name, 'replay'), 'c_' || p_queue_name, 'r_' || p_queue_name);
end
$$;

-- Checkpoint states, params and results of a few kilobytes and more are compressed when stored.
-- lz4 compresses several times faster than the default pglz, which shows in every large checkpoint
-- write; servers built without lz4 (and embedded PGlite) keep pglz. Only columns not yet on lz4 are
-- altered, so repeating create_queue takes no table locks.
create or replace function absurd.ensure_queue_compression(p_queue_name text) returns void
language plpgsql
as $$
declare
  v_column record;
begin
  for v_column in
    select c.relname, a.attname
    from (values ('c_', 'state'), ('t_', 'params'), ('t_', 'completed_payload'), ('r_', 'result')) as wanted (prefix, attname)
    join pg_catalog.pg_class c on c.relname = wanted.prefix || p_queue_name and c.relnamespace = 'absurd'::regnamespace
    join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attname = wanted.attname
    where a.attcompression is distinct from 'l'
  loop
    begin
      execute format('alter table absurd.%I alter column %I set compression lz4', v_column.relname, v_column.attname);
    exception when feature_not_supported then
      return;
    end;
  end loop;
end
$$;

-- As in 0001, and now also writing the queue's replay function and choosing its compression.
create or replace function absurd.create_queue(p_queue_name text, p_storage_mode text) returns void
language plpgsql
as $$
declare
  v_mode text := lower(btrim(p_storage_mode));
  v_existing text;
begin
  perform absurd.validate_queue_name(p_queue_name);
  if v_mode is null or v_mode not in ('unpartitioned', 'partitioned') then
    raise exception 'unknown storage mode %; use ''unpartitioned''', coalesce(quote_literal(p_storage_mode), 'NULL');
  end if;
  if v_mode = 'partitioned' then
    raise exception 'storage mode ''partitioned'' is not supported by this schema (queue %)', quote_literal(p_queue_name)
      using hint = 'Create the queue without storageMode (unpartitioned) and remove finished tasks with absurd.cleanup_tasks.';
  end if;
  insert into absurd.queues (queue_name, storage_mode) values (p_queue_name, v_mode)
  on conflict (queue_name) do nothing;
  -- Serialises concurrent creators of one queue before they touch the catalog.
  select q.storage_mode into v_existing from absurd.queues q where q.queue_name = p_queue_name for update;
  if v_existing <> v_mode then
    raise exception 'queue % already exists with storage mode %, not %', quote_literal(p_queue_name), v_existing, v_mode;
  end if;
  perform absurd.ensure_queue_tables(p_queue_name);
  perform absurd.ensure_queue_functions(p_queue_name);
  perform absurd.ensure_queue_replay_function(p_queue_name);
  perform absurd.ensure_queue_compression(p_queue_name);
end
$$;

select absurd.ensure_queue_replay_function(q.queue_name), absurd.ensure_queue_compression(q.queue_name)
from absurd.queues q order by q.queue_name;
