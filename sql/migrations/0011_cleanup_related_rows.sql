-- Cleanup removes everything that belongs to a deleted task: besides its runs, checkpoints, waits and
-- stream chunks, its approval requests and its sub-agent lineage rows, which were left behind before.

-- Deletes up to a batch of finished tasks older than the ttl with all their rows, oldest first.
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
    approvals as (delete from ai_sdk_absurd.tool_approvals a using doomed d where a.queue_name = $3 and a.task_id = d.task_id),
    lineage as (
      delete from ai_sdk_absurd.task_children l using doomed d
      where (l.child_queue = $3 and l.child_task_id = d.task_id) or (l.parent_queue = $3 and l.parent_task_id = d.task_id)
    ),
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
