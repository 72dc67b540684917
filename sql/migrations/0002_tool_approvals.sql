-- Tool calls waiting for a person's decision.
--
-- A durable agent that meets a tool call needing approval records it here and suspends its task on
-- an Absurd event. A decision updates the row and emits that event in one transaction, so the first
-- valid decision wins and can never be consumed twice. Task ids are unique across queues, so
-- (task_id, tool_call_id) identifies a call without naming its queue.

create table if not exists ai_sdk_absurd.tool_approvals (
  task_id uuid not null,
  tool_call_id text not null,
  queue_name text not null,
  tool_name text not null,
  input jsonb,
  input_digest text not null,
  event_name text not null,
  requested_at timestamptz not null,
  expires_at timestamptz,
  decided_at timestamptz,
  approved boolean,
  reason text,
  decided_by text check (decided_by in ('person', 'timeout')),
  primary key (task_id, tool_call_id)
);

-- Operators list what is still waiting, oldest first.
create index if not exists tool_approvals_pending_idx
  on ai_sdk_absurd.tool_approvals (requested_at)
  where decided_at is null;
