// The sub-agent children of a task, as recorded when `subAgentTool` spawned them: a tree in depth-first
// order, for `ai-sdk-absurd show` and the dashboard.
import type { Queryable } from '../db/database.ts';

export interface ChildTask {
  readonly queueName: string;
  readonly taskID: string;
  readonly toolCallStep: string;
  readonly depth: number;
}

/** The sub-agent children of a task, and theirs, in a depth-first order (empty without sub-agents). */
export async function listChildTasks(database: Queryable, queueName: string, taskID: string): Promise<ChildTask[]> {
  const { rows } = await database.query<{ child_queue: string; child_task_id: string; tool_call_step: string; depth: number }>(
    `with recursive tree as (
       select l.child_queue, l.child_task_id, l.tool_call_step, 1 as depth, array[l.created_at::text || l.child_task_id::text] as path
       from ai_sdk_absurd.task_children l where l.parent_queue = $1 and l.parent_task_id = $2::uuid
       union all
       select l.child_queue, l.child_task_id, l.tool_call_step, tree.depth + 1, tree.path || (l.created_at::text || l.child_task_id::text)
       from ai_sdk_absurd.task_children l join tree on l.parent_queue = tree.child_queue and l.parent_task_id = tree.child_task_id
       where tree.depth < 20
     )
     select child_queue, child_task_id::text as child_task_id, tool_call_step, depth from tree order by path`,
    [queueName, taskID],
  );
  return rows.map((row) => ({ queueName: row.child_queue, taskID: row.child_task_id, toolCallStep: row.tool_call_step, depth: row.depth }));
}
