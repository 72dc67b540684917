-- Sub-agents as child tasks: which tool call of which parent task spawned each child, and the
-- triggers that keep parent and children in step inside the database, whatever client acts on them.

create table if not exists ai_sdk_absurd.task_children (
  child_queue text not null references absurd.queues (queue_name) on delete cascade,
  child_task_id uuid not null,
  parent_queue text not null references absurd.queues (queue_name) on delete cascade,
  parent_task_id uuid not null,
  tool_call_step text not null,
  event_name text not null,
  created_at timestamptz not null default absurd.current_time(),
  constraint task_children_pkey primary key (child_queue, child_task_id)
);

create index if not exists task_children_parent_idx on ai_sdk_absurd.task_children (parent_queue, parent_task_id);

-- A task reached a final state. A child wakes its parent with its outcome in the same transaction,
-- so no outcome is missed, whatever ended the child: its handler, the lease sweep, a cancel. A
-- cancelled parent cancels its unfinished children (and they theirs).
create or replace function ai_sdk_absurd.task_lineage_finished() returns trigger
language plpgsql
as $$
declare
  v_queue text := substr(tg_table_name, 3);
  v_link record;
  v_failure jsonb;
begin
  select l.parent_queue, l.event_name into v_link
  from ai_sdk_absurd.task_children l
  where l.child_queue = v_queue and l.child_task_id = new.task_id;
  if found then
    if new.state = 'failed' then
      execute format('select r.failure_reason from absurd.%I r where r.run_id = $1', 'r_' || v_queue)
        into v_failure using new.last_attempt_run;
    end if;
    perform absurd.emit_event(v_link.parent_queue, v_link.event_name, jsonb_build_object(
      'taskID', new.task_id, 'state', new.state,
      'result', case when new.state = 'completed' then new.completed_payload end,
      'failure', v_failure));
  end if;
  if new.state = 'cancelled' then
    for v_link in
      select l.child_queue, l.child_task_id from ai_sdk_absurd.task_children l
      where l.parent_queue = v_queue and l.parent_task_id = new.task_id
      order by l.child_queue, l.child_task_id
    loop
      perform absurd.cancel_task_internal(v_link.child_queue, v_link.child_task_id, absurd.current_time());
    end loop;
  end if;
  return null;
end
$$;

-- Tasks were deleted (cleanup, or by hand): their lineage rows, as parent or as child, go with them.
create or replace function ai_sdk_absurd.task_lineage_deleted() returns trigger
language plpgsql
as $$
declare
  v_queue text := substr(tg_table_name, 3);
begin
  delete from ai_sdk_absurd.task_children l
  using removed_tasks d
  where (l.child_queue = v_queue and l.child_task_id = d.task_id)
     or (l.parent_queue = v_queue and l.parent_task_id = d.task_id);
  return null;
end
$$;

-- Installs the lineage triggers on one queue's task table, once. Called before a sub-agent is spawned,
-- for the parent's and the child's queue, so queues without sub-agents never run them.
create or replace function ai_sdk_absurd.ensure_task_lineage(p_queue_name text) returns void
language plpgsql
as $$
declare
  v_table regclass;
begin
  perform absurd.require_registered_queue(p_queue_name);
  perform absurd.lock_queue_definition(p_queue_name);
  v_table := format('absurd.%I', 't_' || p_queue_name)::regclass;
  if not exists (select 1 from pg_catalog.pg_trigger t where t.tgrelid = v_table and t.tgname = 'ai_sdk_absurd_lineage_finished') then
    execute format($q$
      create trigger ai_sdk_absurd_lineage_finished after update of state on %s for each row
      when (old.state is distinct from new.state and new.state in ('completed', 'failed', 'cancelled'))
      execute function ai_sdk_absurd.task_lineage_finished()
    $q$, v_table);
  end if;
  if not exists (select 1 from pg_catalog.pg_trigger t where t.tgrelid = v_table and t.tgname = 'ai_sdk_absurd_lineage_deleted') then
    execute format($q$
      create trigger ai_sdk_absurd_lineage_deleted after delete on %s
      referencing old table as removed_tasks for each statement
      execute function ai_sdk_absurd.task_lineage_deleted()
    $q$, v_table);
  end if;
end
$$;
