// The dashboard's run list: tasks of every queue (or one), newest first, filtered by state, task name,
// agent, enqueue time and text in their params, with their model and tool call counts.
import type { Queryable } from '../db/database.ts';
import { queueTable } from '../db/queue-table.ts';
import { queuesToRead } from '../history/task-history.ts';

export interface RunListFilter {
  readonly queue?: string;
  readonly state?: string;
  readonly taskName?: string;
  /** Tasks with a checkpoint of this agent (its name prefixes the agent's checkpoints). */
  readonly agent?: string;
  /** Tasks enqueued at or after this time. */
  readonly since?: Date;
  /** Text searched for in the params (case-insensitive). */
  readonly search?: string;
  readonly limit?: number;
}

export interface RunListRow {
  readonly queueName: string;
  readonly taskID: string;
  readonly taskName: string;
  readonly state: string;
  readonly attempts: number;
  readonly enqueuedAt: Date;
  readonly modelCalls: number;
  readonly toolCalls: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

interface Row {
  task_id: string;
  task_name: string;
  state: string;
  attempts: number;
  enqueue_at: Date;
  model_calls: number;
  tool_calls: number;
  input_tokens: string | number;
  output_tokens: string | number;
}

/** Newest tasks first that match `filter`, at most `limit` (default 50). */
export async function listRuns(database: Queryable, filter: RunListFilter = {}): Promise<RunListRow[]> {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500);
  const queues = await queuesToRead(database, filter.queue);
  const rows: RunListRow[] = [];
  for (const queueName of queues) {
    const agentPrefix = filter.agent ? `${filter.agent.replace(/[\\%_]/g, '\\$&')}:%` : null;
    const search = filter.search ? `%${filter.search.replace(/[\\%_]/g, '\\$&')}%` : null;
    const { rows: found } = await database.query<Row>(
      `with page as (
         select t.task_id, t.task_name, t.state, t.attempts, t.enqueue_at
         from ${queueTable('t', queueName)} t
         where ($1::text is null or t.state = $1)
           and ($2::text is null or t.task_name = $2)
           and ($3::timestamptz is null or t.enqueue_at >= $3)
           and ($4::text is null or t.params::text ilike $4)
           and ($5::text is null or exists (
             select 1 from ${queueTable('c', queueName)} a where a.task_id = t.task_id and a.checkpoint_name like $5))
         order by t.enqueue_at desc, t.task_id desc
         limit $6
       )
       select p.task_id::text as task_id, p.task_name, p.state, p.attempts, p.enqueue_at,
              count(*) filter (where c.state->>'kind' = 'model-call')::integer as model_calls,
              count(*) filter (where c.state->>'kind' = 'tool-call')::integer as tool_calls,
              coalesce(sum((c.state->'usage'->>'inputTokens')::numeric) filter (where c.state->>'kind' = 'model-call'), 0) as input_tokens,
              coalesce(sum((c.state->'usage'->>'outputTokens')::numeric) filter (where c.state->>'kind' = 'model-call'), 0) as output_tokens
       from page p left join ${queueTable('c', queueName)} c on c.task_id = p.task_id and c.status = 'committed'
       group by p.task_id, p.task_name, p.state, p.attempts, p.enqueue_at
       order by p.enqueue_at desc, p.task_id desc`,
      [filter.state || null, filter.taskName || null, filter.since?.toISOString() ?? null, search, agentPrefix, limit],
    );
    for (const row of found) {
      rows.push({
        queueName,
        taskID: row.task_id,
        taskName: row.task_name,
        state: row.state,
        attempts: row.attempts,
        enqueuedAt: new Date(row.enqueue_at),
        modelCalls: row.model_calls,
        toolCalls: row.tool_calls,
        inputTokens: Number(row.input_tokens),
        outputTokens: Number(row.output_tokens),
      });
    }
  }
  return rows
    .sort((left, right) => right.enqueuedAt.getTime() - left.enqueuedAt.getTime() || right.taskID.localeCompare(left.taskID))
    .slice(0, limit);
}

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
