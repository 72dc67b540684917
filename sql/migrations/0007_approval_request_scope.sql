-- Tool approval requests keyed by run scope and model call.
--
-- A model numbers its tool call ids per response (call_0, call_1, ...), and one task may run an agent
-- several times, so a tool call id alone does not identify a call. Each request now has its own id
-- (`request_id`) and is recorded under the name of the tool call's checkpoint (`request_key`, e.g.
-- `support:1/model:2/tool:refund:call_0`), which is unique within the task. Rows written before this
-- migration keep `request_key` null; a resumed task adopts its row by tool call id and input.
--
-- A task that waits for several requests suspends once, on one event: `event_name` is the event of
-- the wait a request belongs to (null until the task suspends on it). A decision emits that event
-- when it is the last undecided request of the wait, so the task resumes once all are decided.
--
-- `input_codec` names the checkpoint codec version `input` was encoded with (tagged JSON that keeps
-- NUL characters and lone surrogates); null means `input` is plain JSON, as before this migration.

alter table ai_sdk_absurd.tool_approvals add column if not exists request_id uuid;
update ai_sdk_absurd.tool_approvals set request_id = gen_random_uuid() where request_id is null;
alter table ai_sdk_absurd.tool_approvals alter column request_id set default gen_random_uuid();
alter table ai_sdk_absurd.tool_approvals alter column request_id set not null;

alter table ai_sdk_absurd.tool_approvals add column if not exists request_key text;
alter table ai_sdk_absurd.tool_approvals add column if not exists input_codec integer;
alter table ai_sdk_absurd.tool_approvals alter column event_name drop not null;

alter table ai_sdk_absurd.tool_approvals drop constraint if exists tool_approvals_pkey;
alter table ai_sdk_absurd.tool_approvals add constraint tool_approvals_pkey primary key (request_id);

-- One request per tool call checkpoint of a task.
create unique index if not exists tool_approvals_request_key_idx
  on ai_sdk_absurd.tool_approvals (task_id, request_key);

-- Decisions look requests up by the tool call id a person sees.
create index if not exists tool_approvals_tool_call_idx
  on ai_sdk_absurd.tool_approvals (task_id, tool_call_id);
