-- Stable views of agent activity for the tools teams already chart with: one row per Absurd run, per
-- model call, per tool call, per approval request, and model usage per task. Every queue has its own
-- tables, so each view reads through a function that walks the registered queues; the views join with
-- application tables like any other relation. Columns are only ever added, never renamed or removed.

-- Every run (attempt) of every task, with its task.
create or replace function ai_sdk_absurd.run_rows()
returns table (queue_name text, task_id uuid, task_name text, task_state text, params jsonb, run_id uuid,
               attempt integer, state text, claimed_by text, started_at timestamptz, completed_at timestamptz,
               failed_at timestamptz, failure_reason jsonb, created_at timestamptz)
language plpgsql stable
as $$
declare
  v_queue record;
begin
  for v_queue in select q.queue_name from absurd.queues q order by q.queue_name loop
    return query execute format($q$
      select %1$L::text, r.task_id, t.task_name, t.state, t.params, r.run_id, r.attempt, r.state, r.claimed_by,
             r.started_at, r.completed_at, r.failed_at, r.failure_reason, r.created_at
      from absurd.%2$I r join absurd.%3$I t on t.task_id = r.task_id
    $q$, v_queue.queue_name, 'r_' || v_queue.queue_name, 't_' || v_queue.queue_name);
  end loop;
end
$$;

-- Every committed model-call checkpoint with its usage, the attempt that paid for it, and how many later
-- attempts started with it stored (each replayed it instead of paying again).
create or replace function ai_sdk_absurd.model_call_rows()
returns table (queue_name text, task_id uuid, task_name text, checkpoint_name text, agent text, provider text,
               model_id text, call text, finish_reason text, input_tokens bigint, output_tokens bigint,
               duration_ms double precision, provider_attempts integer, started_at timestamptz,
               written_at timestamptz, written_by_attempt integer, replays integer)
language plpgsql stable
as $$
declare
  v_queue record;
begin
  for v_queue in select q.queue_name from absurd.queues q order by q.queue_name loop
    return query execute format($q$
      select %1$L::text, c.task_id, t.task_name, c.checkpoint_name,
             substring(c.checkpoint_name from '(?:^|/)([^/]+?)(?::[0-9]+)?/model:[0-9]+$'),
             c.state->>'provider', c.state->>'modelId', c.state->>'call', c.state->>'finishReason',
             (c.state->'usage'->>'inputTokens')::numeric::bigint, (c.state->'usage'->>'outputTokens')::numeric::bigint,
             (c.state->>'durationMs')::double precision, (c.state->>'attempts')::numeric::integer,
             (c.state->>'startedAt')::timestamptz, c.updated_at, w.attempt,
             (select count(*)::integer from absurd.%2$I later
              where later.task_id = c.task_id and later.attempt > coalesce(w.attempt, 0) and later.started_at is not null)
      from absurd.%3$I c
      join absurd.%4$I t on t.task_id = c.task_id
      left join absurd.%2$I w on w.run_id = c.owner_run_id
      where c.status = 'committed' and jsonb_typeof(c.state) = 'object' and c.state->>'kind' = 'model-call'
    $q$, v_queue.queue_name, 'r_' || v_queue.queue_name, 'c_' || v_queue.queue_name, 't_' || v_queue.queue_name);
  end loop;
end
$$;

-- Every committed tool-call checkpoint: which tool, its outcome and how long it took.
create or replace function ai_sdk_absurd.tool_call_rows()
returns table (queue_name text, task_id uuid, task_name text, checkpoint_name text, tool_name text,
               tool_call_id text, outcome text, duration_ms double precision, started_at timestamptz,
               written_at timestamptz, written_by_attempt integer)
language plpgsql stable
as $$
declare
  v_queue record;
begin
  for v_queue in select q.queue_name from absurd.queues q order by q.queue_name loop
    return query execute format($q$
      select %1$L::text, c.task_id, t.task_name, c.checkpoint_name, c.state->>'toolName', c.state->>'toolCallId',
             c.state->>'outcome', (c.state->>'durationMs')::double precision, (c.state->>'startedAt')::timestamptz,
             c.updated_at, w.attempt
      from absurd.%3$I c
      join absurd.%4$I t on t.task_id = c.task_id
      left join absurd.%2$I w on w.run_id = c.owner_run_id
      where c.status = 'committed' and jsonb_typeof(c.state) = 'object' and c.state->>'kind' = 'tool-call'
    $q$, v_queue.queue_name, 'r_' || v_queue.queue_name, 'c_' || v_queue.queue_name, 't_' || v_queue.queue_name);
  end loop;
end
$$;

create or replace view ai_sdk_absurd.runs as select * from ai_sdk_absurd.run_rows();

create or replace view ai_sdk_absurd.model_calls as select * from ai_sdk_absurd.model_call_rows();

create or replace view ai_sdk_absurd.tool_calls as select * from ai_sdk_absurd.tool_call_rows();

create or replace view ai_sdk_absurd.approvals as
  select a.request_id, a.queue_name, a.task_id, a.request_key, a.tool_call_id, a.tool_name, a.requested_at,
         a.expires_at, a.decided_at, a.approved, a.reason, a.decided_by
  from ai_sdk_absurd.tool_approvals a;

-- Model usage per task, agent and model: what was paid, and what replays did not pay again.
create or replace view ai_sdk_absurd.usage as
  select m.queue_name, m.task_id, m.task_name, m.agent, m.provider, m.model_id,
         count(*)::integer as model_calls,
         coalesce(sum(m.input_tokens), 0)::bigint as input_tokens,
         coalesce(sum(m.output_tokens), 0)::bigint as output_tokens,
         coalesce(sum(m.replays), 0)::integer as replayed_calls,
         coalesce(sum(m.input_tokens * m.replays), 0)::bigint as saved_input_tokens,
         coalesce(sum(m.output_tokens * m.replays), 0)::bigint as saved_output_tokens,
         min(m.started_at) as first_call_at,
         max(m.written_at) as last_call_at
  from ai_sdk_absurd.model_calls m
  group by m.queue_name, m.task_id, m.task_name, m.agent, m.provider, m.model_id;
