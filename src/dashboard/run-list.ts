// The dashboard's run list: tasks of every queue (or one), newest first, filtered by state, task name,
// agent, enqueue time and text in their params, with their model and tool call counts.
import type { Queryable } from '../db/database.ts';
import { queueTable } from '../db/queue-table.ts';
import { queuesToRead, type TaskSummary } from '../history/task-history.ts';

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

/** A task as the list shows it: its summary without the run times. */
export type RunListRow = Omit<TaskSummary, 'firstStartedAt' | 'finishedAt'>;

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
