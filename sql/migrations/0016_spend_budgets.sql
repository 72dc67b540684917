-- The spend ledger's detail and the spend a budget counts. Model-call checkpoints now also hold the
-- reasoning, cached-input and cache-write tokens of each call; the model_calls and usage views gain
-- those columns (columns are only ever added). A budget counts what a task, or one agent's runs in it,
-- spent on every attempt, with every sub-agent child task below them, read from the checkpoints.

drop view if exists ai_sdk_absurd.usage;
drop view if exists ai_sdk_absurd.model_calls;
drop function if exists ai_sdk_absurd.model_call_rows();

-- Every committed model-call checkpoint with its usage, the attempt that paid for it, and how many later
-- attempts started with it stored (each replayed it instead of paying again).
create function ai_sdk_absurd.model_call_rows()
returns table (queue_name text, task_id uuid, task_name text, checkpoint_name text, agent text, provider text,
               model_id text, call text, finish_reason text, input_tokens bigint, output_tokens bigint,
               duration_ms double precision, provider_attempts integer, started_at timestamptz,
               written_at timestamptz, written_by_attempt integer, replays integer,
               reasoning_tokens bigint, cached_input_tokens bigint, cache_write_tokens bigint)
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
              where later.task_id = c.task_id and later.attempt > coalesce(w.attempt, 0) and later.started_at is not null),
             (c.state->'usage'->>'reasoningTokens')::numeric::bigint,
             (c.state->'usage'->>'cachedInputTokens')::numeric::bigint,
             (c.state->'usage'->>'cacheWriteTokens')::numeric::bigint
      from absurd.%3$I c
      join absurd.%4$I t on t.task_id = c.task_id
      left join absurd.%2$I w on w.run_id = c.owner_run_id
      where c.status = 'committed' and jsonb_typeof(c.state) = 'object' and c.state->>'kind' = 'model-call'
    $q$, v_queue.queue_name, 'r_' || v_queue.queue_name, 'c_' || v_queue.queue_name, 't_' || v_queue.queue_name);
  end loop;
end
$$;

create view ai_sdk_absurd.model_calls as select * from ai_sdk_absurd.model_call_rows();

-- Model usage per task, agent and model: what was paid, and what replays did not pay again.
create view ai_sdk_absurd.usage as
  select m.queue_name, m.task_id, m.task_name, m.agent, m.provider, m.model_id,
         count(*)::integer as model_calls,
         coalesce(sum(m.input_tokens), 0)::bigint as input_tokens,
         coalesce(sum(m.output_tokens), 0)::bigint as output_tokens,
         coalesce(sum(m.replays), 0)::integer as replayed_calls,
         coalesce(sum(m.input_tokens * m.replays), 0)::bigint as saved_input_tokens,
         coalesce(sum(m.output_tokens * m.replays), 0)::bigint as saved_output_tokens,
         min(m.started_at) as first_call_at,
         max(m.written_at) as last_call_at,
         coalesce(sum(m.reasoning_tokens), 0)::bigint as reasoning_tokens,
         coalesce(sum(m.cached_input_tokens), 0)::bigint as cached_input_tokens,
         coalesce(sum(m.cache_write_tokens), 0)::bigint as cache_write_tokens
  from ai_sdk_absurd.model_calls m
  group by m.queue_name, m.task_id, m.task_name, m.agent, m.provider, m.model_id;

-- Whether a checkpoint name lies inside a run of the agent named p_agent (its own calls, its tool calls,
-- agents nested in its tools): names are `<agent>:<n>/...`, possibly below a tool call of another run.
create or replace function ai_sdk_absurd.step_of_agent(p_step_name text, p_agent text) returns boolean
language sql immutable
as $$
  select left(p_step_name, length(p_agent) + 1) = p_agent || ':' or strpos(p_step_name, '/' || p_agent || ':') > 0
$$;

-- What a budget has spent, per model: the model-call checkpoints of a task (only those inside runs of
-- p_agent when it is given) and of every sub-agent child task spawned below them, on every attempt.
-- Read from the checkpoints, so a resumed run continues from what was already spent.
create or replace function ai_sdk_absurd.budget_spend(p_queue_name text, p_task_id uuid, p_agent text)
returns table (provider text, model_id text, model_calls bigint, input_tokens bigint, output_tokens bigint,
               cached_input_tokens bigint)
language plpgsql stable
as $$
declare
  v_queue record;
begin
  for v_queue in
    with recursive tree as (
      select p_queue_name as queue_name, p_task_id as task_id, 0 as depth
      union all
      select l.child_queue, l.child_task_id, tree.depth + 1
      from ai_sdk_absurd.task_children l
      join tree on l.parent_queue = tree.queue_name and l.parent_task_id = tree.task_id
      where tree.depth < 20
        and (tree.depth > 0 or p_agent is null or ai_sdk_absurd.step_of_agent(l.tool_call_step, p_agent))
    )
    select tree.queue_name, array_agg(tree.task_id) as task_ids from tree group by tree.queue_name
  loop
    return query execute format($q$
      select c.state->>'provider', c.state->>'modelId', count(*),
             coalesce(sum((c.state->'usage'->>'inputTokens')::numeric), 0)::bigint,
             coalesce(sum((c.state->'usage'->>'outputTokens')::numeric), 0)::bigint,
             coalesce(sum((c.state->'usage'->>'cachedInputTokens')::numeric), 0)::bigint
      from absurd.%1$I c
      where c.task_id = any($1) and c.status = 'committed' and c.state->>'kind' = 'model-call'
        and ($2::text is null or c.task_id <> $3 or ai_sdk_absurd.step_of_agent(c.checkpoint_name, $2))
      group by 1, 2
    $q$, 'c_' || v_queue.queue_name) using v_queue.task_ids, p_agent, p_task_id;
  end loop;
end
$$;

-- The dashboard lists a queue's tasks newest first, one page at a time: an index on the enqueue time
-- answers the first page without sorting every task of a long queue.
create or replace function ai_sdk_absurd.ensure_run_list_index(p_queue_name text) returns void
language plpgsql
as $$
begin
  execute format('create index if not exists %I on absurd.%I (enqueue_at desc, task_id desc)',
    't_' || p_queue_name || '_rli', 't_' || p_queue_name);
end
$$;

-- Queues get the run list index with their tables from now on; the table maker of the earlier
-- migrations keeps its work under a new name.
alter function absurd.ensure_queue_tables(text) rename to ensure_queue_storage_tables;

-- Creates whatever a queue's tables need and is missing, the run list index included.
create function absurd.ensure_queue_tables(p_queue_name text) returns void
language plpgsql
as $$
begin
  perform absurd.ensure_queue_storage_tables(p_queue_name);
  perform ai_sdk_absurd.ensure_run_list_index(p_queue_name);
end
$$;

do $$
declare
  v_queue record;
begin
  for v_queue in select q.queue_name from absurd.queues q order by q.queue_name loop
    perform ai_sdk_absurd.ensure_run_list_index(v_queue.queue_name);
  end loop;
end
$$;
