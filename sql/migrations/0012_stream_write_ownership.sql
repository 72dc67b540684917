-- Stream chunks are written only by the run that owns the task, decided once the stream's lock is held.
--
-- A worker whose lease lapsed (it stalled, or lost the database for a while) kept publishing its agent's
-- chunks while the attempt that took over published its own, so a reader saw the text twice. Like a
-- checkpoint write, an append now checks, after taking the task's stream lock, that its run is still
-- running and its task not cancelled, and refuses with AB002 / AB001 otherwise; nothing is written.
-- An append without a run (from outside any task execution) is not checked.

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
exception when undefined_table then
  perform absurd.raise_if_unknown_queue(p_queue_name);
  raise;
end
$$;
