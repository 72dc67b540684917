-- Appending a batch of stream chunks costs one insert, not a subtransaction and a foreign-key probe per row.
--
-- 0012's append caught undefined_table in an exception block, so every append opened a subtransaction, and
-- each inserted row checked its queue through the foreign key to absurd.queues. For a 2,000-chunk batch the
-- two together cost more than the insert itself. The append now takes the queue's definition lock in shared
-- mode (a drop waits for it, as for claims and spawns) and checks once that the queue exists; rows of a
-- dropped queue are removed by a trigger on absurd.queues instead of the cascading foreign key.

do $$
declare
  v_constraint text;
begin
  for v_constraint in
    select c.conname from pg_catalog.pg_constraint c
    where c.conrelid = 'ai_sdk_absurd.stream_chunks'::regclass and c.contype = 'f'
  loop
    execute format('alter table ai_sdk_absurd.stream_chunks drop constraint %I', v_constraint);
  end loop;
end
$$;

-- A dropped queue takes its stream rows with it, as the foreign key's cascade did.
create or replace function ai_sdk_absurd.delete_queue_stream_chunks() returns trigger
language plpgsql
as $$
begin
  delete from ai_sdk_absurd.stream_chunks s where s.queue_name = old.queue_name;
  return old;
end
$$;

drop trigger if exists stream_chunks_follow_queue on absurd.queues;
create trigger stream_chunks_follow_queue after delete on absurd.queues
  for each row execute function ai_sdk_absurd.delete_queue_stream_chunks();

-- Appends chunks after the task's last one, for the run that owns the task, and wakes its readers.
create or replace function ai_sdk_absurd.append_stream_chunks(p_queue_name text, p_task_id uuid, p_run_id uuid, p_chunks jsonb)
returns integer
language plpgsql
as $$
declare
  v_next integer;
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
