-- Checkpoint writes decide whether their run still owns the task after taking the run's row lock.
--
-- The checkpoint function of 0001 read the run's state from the snapshot its statement started with
-- and then waited on the run's row lock to extend the lease. When that lock was held by a claim whose
-- lease-expiry sweep was failing the run, the write waited, found the lease no longer extendable, and
-- still stored the checkpoint under the state it had read before waiting: a run that had already
-- failed wrote a step that the next attempt then replayed. Each queue's checkpoint function now locks
-- the run first and reads the run and task states only once it holds the lock, so a sweep, a cancel
-- or a completion that got there first is always seen (AB002, AB001) and nothing is written.

-- Writes the queue's checkpoint function (the name 0001 gave it, so set_task_checkpoint_state
-- dispatches to it unchanged). The run row is locked with the strength an update takes, which the
-- sweep's FOR UPDATE, fail_run and cancel_task all conflict with; two writers of one run queue on it
-- as they did on the lease update before. Under READ COMMITTED the locking read returns the row as
-- the lock holder left it, and each later statement sees everything committed before the lock.
create or replace function absurd.ensure_queue_checkpoint_function(p_queue_name text) returns void
language plpgsql
as $$
begin
  execute format($tmpl$
    create or replace function absurd.%1$I(p_task_id uuid, p_step_name text, p_state jsonb, p_owner_run uuid,
                                          p_extend_by integer, p_now timestamptz, out run_state text, out task_state text)
    language plpgsql
    set plan_cache_mode = force_generic_plan
    as $body$
    #variable_conflict use_column
    declare
      v_attempt integer;
    begin
      select r.attempt, r.state into v_attempt, run_state
      from absurd.%3$I r where r.run_id = p_owner_run
      for no key update;
      if not found then
        return;
      end if;
      select t.state into task_state from absurd.%2$I t where t.task_id = p_task_id;
      if run_state = 'failed' or task_state = 'cancelled' then
        return;
      end if;
      with extended as (
        update absurd.%3$I r set claim_expires_at = p_now + make_interval(secs => p_extend_by)
        where p_extend_by > 0 and r.run_id = p_owner_run and r.claim_expires_at is not null
          and r.state not in ('pending', 'sleeping', 'completed', 'failed', 'cancelled')
      )
      insert into absurd.%4$I as c (task_id, checkpoint_name, state, status, owner_run_id, owner_attempt, updated_at)
      values (p_task_id, p_step_name, p_state, 'committed', p_owner_run, v_attempt, p_now)
      on conflict (task_id, checkpoint_name) do update
      set state = excluded.state, status = 'committed', owner_run_id = excluded.owner_run_id,
          owner_attempt = excluded.owner_attempt, updated_at = excluded.updated_at
      where coalesce(c.owner_attempt, (select o.attempt from absurd.%3$I o where o.run_id = c.owner_run_id), 0)
            <= excluded.owner_attempt;
    end
    $body$
  $tmpl$, absurd.queue_function_name(p_queue_name, 'checkpoint'), 't_' || p_queue_name, 'r_' || p_queue_name,
     'c_' || p_queue_name);
end
$$;

-- The generator of 0001 stays, under a name that says it writes the queue's other hot-path functions
-- first; ensure_queue_functions, which create_queue calls, now runs it and then writes the checkpoint
-- function above over the one it wrote, so a queue created from now on decides ownership after the
-- lock too.
alter function absurd.ensure_queue_functions(text) rename to ensure_queue_base_functions;

create or replace function absurd.ensure_queue_functions(p_queue_name text) returns void
language plpgsql
as $$
begin
  perform absurd.ensure_queue_base_functions(p_queue_name);
  perform absurd.ensure_queue_checkpoint_function(p_queue_name);
end
$$;

select absurd.ensure_queue_checkpoint_function(q.queue_name) from absurd.queues q order by q.queue_name;
