-- Concurrent creation and removal of one queue would otherwise race in the system catalogs
-- (deadlocks, duplicate type names); both now take one transaction-level advisory lock per queue name.

-- The advisory lock that serialises creating and dropping one queue, keyed by its name.
create or replace function absurd.lock_queue_definition(p_queue_name text) returns void
language sql
as $$
  select pg_advisory_xact_lock(hashtext('absurd.queue_definition'), hashtext(p_queue_name))
$$;

-- As in 0003, taking the queue's definition lock first so concurrent creators and droppers run one at a time.
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
  perform absurd.lock_queue_definition(p_queue_name);
  insert into absurd.queues (queue_name, storage_mode) values (p_queue_name, v_mode)
  on conflict (queue_name) do nothing;
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

-- As in 0001, taking the queue's definition lock first so a drop never interleaves with a create.
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
  for v_function in
    select p.oid::regprocedure from pg_catalog.pg_proc p
    where p.pronamespace = 'absurd'::regnamespace
      and starts_with(p.proname::text, absurd.queue_function_name(p_queue_name, ''))
  loop
    execute format('drop function %s', v_function);
  end loop;
  foreach v_prefix in array array['w_', 'c_', 'e_', 'r_', 't_', 'i_'] loop
    execute format('drop table if exists absurd.%I cascade', v_prefix || p_queue_name);
  end loop;
  delete from absurd.queues q where q.queue_name = p_queue_name;
end
$$;
