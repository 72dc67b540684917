-- Absurd protocol schema: the stored functions the unmodified `absurd-sdk` client calls, written
-- from the protocol contract (names, argument types, result columns and SQLSTATEs are interface facts).
--
-- Tables. `absurd.queues` registers queues and their maintenance policy. Every queue <q> owns five
-- tables, always addressed with quoted identifiers:
--   t_<q>  tasks: the logical job (params, retry/cancellation policy, state, attempts, result)
--   r_<q>  runs: one attempt of a task (lease, availability, wake-up hand-over, outcome)
--   c_<q>  checkpoints: saved step results keyed by (task_id, checkpoint_name)
--   e_<q>  events: emitted once per name; payload SQL NULL marks a placeholder row taken by a waiter
--   w_<q>  waits: a sleeping run's registration for an event, keyed by (run_id, step_name)
-- Two columns exist for speed only: t_<q>.cancel_deadline (the next moment the task's cancellation
-- policy fires, null when none applies) and c_<q>.owner_attempt (the owner run's attempt, so the
-- attempt guard and checkpoint visibility need no join).
--
-- Run states: pending -> running (claim_task); running -> sleeping (schedule_run, await_event);
-- sleeping -> pending (emit_event); running|sleeping -> failed (fail_run, lease expiry);
-- running -> completed (complete_run); pending|running|sleeping -> cancelled (cancel_task,
-- cancellation policy). A retry is a new run with attempt + 1; sleeping and waking keep the run.
-- The task state follows its newest run.
--
-- SQLSTATEs: AB001 the task was cancelled; AB002 the run already failed (for example its lease
-- expired and a claim swept it). An unknown queue reports 42P01. Every other error is P0001 with a
-- message that says what was wrong.
--
-- Time always comes from absurd.current_time(), which honours the session setting absurd.fake_now.
-- Whenever a run becomes claimable now, pg_notify('absurd_wakeup', <queue name>) lets idle workers
-- wake at once instead of waiting for their next poll.
--
-- Hot path: every queue also gets generated functions (absurd.q<hash>_claim, _checkpoint, ...)
-- holding its worker-loop statements as static SQL, so their plans are cached per session; a
-- dynamic EXECUTE is planned on every call, which costs several times the statement itself. The
-- public functions validate, read the clock and dispatch to them. Statements that address one run by
-- id state its required state as a NOT IN list on purpose: an equality such as state = 'running'
-- would let the planner prove a partial index's predicate and, with stale statistics, scan that
-- index instead of the primary key.

create schema if not exists absurd;

-- Tests and tools control the clock through the session setting absurd.fake_now; a blank value
-- (what `set absurd.fake_now = default` leaves behind) means the real clock.
create or replace function absurd.current_time() returns timestamptz
language sql volatile
as $$
  select coalesce(nullif(btrim(current_setting('absurd.fake_now', true)), '')::timestamptz, clock_timestamp())
$$;

-- Names the protocol level this schema speaks, which is what absurdctl compares.
create or replace function absurd.get_schema_version() returns text
language sql immutable
as $$
  select 'main'::text
$$;

-- Time-ordered ids (UUIDv7 layout) built from the absurd clock, so claim order is roughly FIFO and
-- a faked clock shows up in the ids; PostgreSQL 15 has no built-in uuidv7().
create or replace function absurd.portable_uuidv7(p_at timestamptz default absurd.current_time()) returns uuid
language sql volatile
as $$
  select encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
        placing substring(int8send(floor(extract(epoch from p_at) * 1000)::bigint) from 3)
        from 1 for 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;

-- Queue names become part of table identifiers, so they are checked before any table is created:
-- 2-byte prefix + 57 bytes + 4-byte index suffix fits PostgreSQL's 63-byte identifier limit.
create or replace function absurd.validate_queue_name(p_queue_name text) returns text
language plpgsql immutable
as $$
begin
  if p_queue_name is null then
    raise exception 'queue name must not be null';
  end if;
  if p_queue_name = '' then
    raise exception 'queue name must not be empty';
  end if;
  if octet_length(p_queue_name) > 57 then
    raise exception 'queue name "%" is % bytes long in UTF-8; queue names may be at most 57 bytes',
      p_queue_name, octet_length(p_queue_name)
      using hint = 'Choose a shorter queue name.';
  end if;
  if p_queue_name ~ '[[:cntrl:]]' then
    raise exception 'queue name % contains a control character (tab, newline or similar)', quote_literal(p_queue_name)
      using hint = 'Use only printable characters in queue names.';
  end if;
  return p_queue_name;
end
$$;

-- Callers that name a queue nobody created get told how to create it. Only reached once a lookup
-- has already failed (a missing table or generated function), so correct calls never pay for it.
create or replace function absurd.raise_if_unknown_queue(p_queue_name text) returns void
language plpgsql stable
as $$
begin
  if not exists (select 1 from absurd.queues q where q.queue_name = p_queue_name) then
    raise exception 'queue % does not exist; create it with absurd.createQueue(%) or select absurd.create_queue(%)',
      coalesce(quote_ident(p_queue_name), 'NULL'), coalesce(quote_literal(p_queue_name), 'NULL'),
      coalesce(quote_literal(p_queue_name), 'NULL')
      using errcode = 'undefined_table';
  end if;
end
$$;

-- The registry of queues and their maintenance policy; every column but the name has a default.
create table if not exists absurd.queues (
  queue_name text primary key,
  created_at timestamptz not null default absurd.current_time(),
  storage_mode text not null default 'unpartitioned' check (storage_mode in ('unpartitioned', 'partitioned')),
  default_partition text not null default 'enabled' check (default_partition in ('enabled', 'disabled')),
  partition_lookahead interval not null default '28 days' check (partition_lookahead >= interval '0'),
  partition_lookback interval not null default '1 day' check (partition_lookback >= interval '0'),
  cleanup_ttl interval not null default '30 days' check (cleanup_ttl >= interval '0'),
  cleanup_limit integer not null default 1000 check (cleanup_limit >= 1),
  detach_mode text not null default 'none' check (detach_mode in ('none', 'empty')),
  detach_min_age interval not null default '30 days' check (detach_min_age >= interval '0')
);

-- Creates a queue's five tables and their indexes; safe to repeat. The partial index r_<q>_sai holds
-- only claimable-state runs in claim order, so a claim reads a few index entries however many runs
-- are pending; r_<q>_cei and t_<q>_cdi make the lease and cancellation sweeps index probes.
create or replace function absurd.ensure_queue_tables(p_queue_name text) returns void
language plpgsql
as $$
declare
  v_t text := 't_' || p_queue_name;
  v_r text := 'r_' || p_queue_name;
  v_c text := 'c_' || p_queue_name;
  v_e text := 'e_' || p_queue_name;
  v_w text := 'w_' || p_queue_name;
begin
  execute format($q$
    create table if not exists absurd.%1$I (
      task_id uuid not null,
      task_name text not null,
      params jsonb not null,
      headers jsonb,
      retry_strategy jsonb,
      max_attempts integer,
      cancellation jsonb,
      enqueue_at timestamptz not null,
      first_started_at timestamptz,
      state text not null check (state in ('pending', 'running', 'sleeping', 'completed', 'failed', 'cancelled')),
      attempts integer not null default 0,
      last_attempt_run uuid,
      completed_payload jsonb,
      cancelled_at timestamptz,
      idempotency_key text,
      cancel_deadline timestamptz,
      constraint %2$I primary key (task_id)
    )$q$, v_t, v_t || '_pk');
  execute format('create unique index if not exists %I on absurd.%I (idempotency_key)', v_t || '_iki', v_t);
  execute format('create index if not exists %I on absurd.%I (cancel_deadline) where cancel_deadline is not null',
    v_t || '_cdi', v_t);

  execute format($q$
    create table if not exists absurd.%1$I (
      run_id uuid not null,
      task_id uuid not null,
      attempt integer not null,
      state text not null check (state in ('pending', 'running', 'sleeping', 'completed', 'failed', 'cancelled')),
      claimed_by text,
      claim_expires_at timestamptz,
      available_at timestamptz not null,
      wake_event text,
      event_payload jsonb,
      started_at timestamptz,
      completed_at timestamptz,
      failed_at timestamptz,
      result jsonb,
      failure_reason jsonb,
      created_at timestamptz not null,
      constraint %2$I primary key (run_id)
    )$q$, v_r, v_r || '_pk');
  execute format($q$create index if not exists %I on absurd.%I (available_at, run_id)
    where state in ('pending', 'sleeping')$q$, v_r || '_sai', v_r);
  execute format('create index if not exists %I on absurd.%I (task_id)', v_r || '_ti', v_r);
  execute format($q$create index if not exists %I on absurd.%I (claim_expires_at)
    where state = 'running' and claim_expires_at is not null$q$, v_r || '_cei', v_r);

  execute format($q$
    create table if not exists absurd.%1$I (
      task_id uuid not null,
      checkpoint_name text not null,
      state jsonb,
      status text not null default 'committed',
      owner_run_id uuid,
      owner_attempt integer,
      updated_at timestamptz not null,
      constraint %2$I primary key (task_id, checkpoint_name)
    )$q$, v_c, v_c || '_pk');

  execute format($q$
    create table if not exists absurd.%1$I (
      event_name text not null,
      payload jsonb,
      emitted_at timestamptz not null,
      constraint %2$I primary key (event_name)
    )$q$, v_e, v_e || '_pk');
  execute format('create index if not exists %I on absurd.%I (emitted_at)', v_e || '_eai', v_e);

  execute format($q$
    create table if not exists absurd.%1$I (
      run_id uuid not null,
      step_name text not null,
      task_id uuid not null,
      event_name text not null,
      timeout_at timestamptz,
      created_at timestamptz not null,
      constraint %2$I primary key (run_id, step_name)
    )$q$, v_w, v_w || '_pk');
  execute format('create index if not exists %I on absurd.%I (event_name)', v_w || '_eni', v_w);
  execute format('create index if not exists %I on absurd.%I (task_id)', v_w || '_ti', v_w);
end
$$;

-- Generated hot-path functions are named from a hash of the queue name, so any queue name (up to
-- 57 bytes, any characters) gives a short, valid identifier.
create or replace function absurd.queue_function_name(p_queue_name text, p_operation text) returns text
language sql immutable
as $$
  select 'q' || left(md5(p_queue_name), 24) || '_' || p_operation
$$;

-- Turns a missing generated function into the error a caller can act on: an unknown queue, or a
-- queue whose functions need regenerating.
create or replace function absurd.raise_missing_queue_function(p_queue_name text, p_operation text) returns text
language plpgsql stable
as $$
begin
  perform absurd.raise_if_unknown_queue(p_queue_name);
  raise exception 'queue % is registered but its % function is missing', quote_literal(p_queue_name), p_operation
    using hint = format('Regenerate it with select absurd.create_queue(%L).', p_queue_name);
end
$$;

-- Resolves a queue's generated function for dynamic dispatch. Plain SQL so that it is inlined
-- into the calling expression: it runs on every hot-path call.
create or replace function absurd.queue_function(p_queue_name text, p_operation text) returns text
language sql stable
as $$
  select case
    when to_regproc('absurd.' || quote_ident(absurd.queue_function_name(p_queue_name, p_operation))) is not null
      then 'absurd.' || quote_ident(absurd.queue_function_name(p_queue_name, p_operation))
    else absurd.raise_missing_queue_function(p_queue_name, p_operation)
  end
$$;

-- Writes the queue's hot-path functions: the worker loop's statements with this queue's tables
-- built in as static SQL, so PL/pgSQL plans each statement once per session instead of once per
-- call (dynamic EXECUTE plans every time, which cost several times the statement itself). Each
-- pins plan_cache_mode to generic plans: every statement looks rows up by key, so a generic plan
-- is as good as a custom one, and the plan cache would otherwise keep re-planning some of them. The
-- public functions (claim_task, set_task_checkpoint_state, ...) validate arguments, read the clock
-- and dispatch here. Safe to repeat; create_queue calls it, and a migration that changes these
-- bodies re-runs it for every registered queue.
create or replace function absurd.ensure_queue_functions(p_queue_name text) returns void
language plpgsql
as $$
declare
  v_t text := 't_' || p_queue_name;
  v_r text := 'r_' || p_queue_name;
  v_c text := 'c_' || p_queue_name;
  v_w text := 'w_' || p_queue_name;
begin
  -- spawn: insert task and first run; with an idempotency key the unique index decides races and a
  -- loser reads the winner (a fresh statement, so it sees a spawn that committed while it waited).
  execute format($tmpl$
    create or replace function absurd.%1$I(p_task_name text, p_params jsonb, p_options jsonb, p_now timestamptz)
    returns table (task_id uuid, run_id uuid, attempt integer, created boolean)
    language plpgsql
    set plan_cache_mode = force_generic_plan
    as $body$
    #variable_conflict use_column
    declare
      v_key text := p_options ->> 'idempotency_key';
      v_task_id uuid;
      v_run_id uuid;
      v_attempts integer;
      v_inserted uuid;
    begin
      for v_try in 1..3 loop
        v_task_id := absurd.portable_uuidv7(p_now);
        v_run_id := absurd.portable_uuidv7(p_now);
        if v_key is null then
          with task as (
            insert into absurd.%2$I (task_id, task_name, params, headers, retry_strategy, max_attempts, cancellation,
                                     enqueue_at, state, attempts, last_attempt_run, cancel_deadline)
            values (v_task_id, p_task_name, coalesce(p_params, 'null'::jsonb), nullif(p_options -> 'headers', 'null'::jsonb),
                    nullif(p_options -> 'retry_strategy', 'null'::jsonb), ((p_options -> 'max_attempts') #>> '{}')::numeric::integer,
                    nullif(p_options -> 'cancellation', 'null'::jsonb), p_now, 'pending', 1, v_run_id,
                    absurd.cancel_deadline(p_options -> 'cancellation', p_now, null))
          )
          insert into absurd.%3$I (run_id, task_id, attempt, state, available_at, created_at)
          values (v_run_id, v_task_id, 1, 'pending', p_now, p_now);
          v_inserted := v_task_id;
        else
          with task as (
            insert into absurd.%2$I (task_id, task_name, params, headers, retry_strategy, max_attempts, cancellation,
                                     enqueue_at, state, attempts, last_attempt_run, idempotency_key, cancel_deadline)
            values (v_task_id, p_task_name, coalesce(p_params, 'null'::jsonb), nullif(p_options -> 'headers', 'null'::jsonb),
                    nullif(p_options -> 'retry_strategy', 'null'::jsonb), ((p_options -> 'max_attempts') #>> '{}')::numeric::integer,
                    nullif(p_options -> 'cancellation', 'null'::jsonb), p_now, 'pending', 1, v_run_id, v_key,
                    absurd.cancel_deadline(p_options -> 'cancellation', p_now, null))
            on conflict (idempotency_key) do nothing
            returning task_id
          )
          insert into absurd.%3$I (run_id, task_id, attempt, state, available_at, created_at)
          select v_run_id, task.task_id, 1, 'pending', p_now, p_now from task
          returning task_id into v_inserted;
        end if;
        if v_inserted is not null then
          perform pg_notify('absurd_wakeup', %4$L);
          return query select v_task_id, v_run_id, 1, true;
          return;
        end if;
        select t.task_id, t.last_attempt_run, t.attempts into v_task_id, v_run_id, v_attempts
        from absurd.%2$I t where t.idempotency_key = v_key;
        if found then
          return query select v_task_id, v_run_id, v_attempts, false;
          return;
        end if;
        -- The key's holder was deleted in between (cleanup): try again with fresh ids.
      end loop;
    end
    $body$
  $tmpl$, absurd.queue_function_name(p_queue_name, 'spawn'), v_t, v_r, p_queue_name);

  -- claim: two index probes decide whether a sweep is needed; then one statement locks up to qty
  -- due runs in claim order (skipping rows other claimers hold) and updates runs, tasks and
  -- expired waits. The plan is pinned: a generic plan (custom plans would be re-planned on every
  -- call because the LIMIT is a parameter) that, whatever LIMIT or table sizes it guesses, walks
  -- the indexes with nested loops instead of scanning and hashing whole tables, and never pays for
  -- JIT compilation (the guessed LIMIT inflates the cost estimate past jit_above_cost).
  execute format($tmpl$
    create or replace function absurd.%1$I(p_now timestamptz, p_worker text, p_timeout integer, p_qty integer)
    returns table (run_id uuid, task_id uuid, attempt integer, task_name text, params jsonb, retry_strategy jsonb,
                   max_attempts integer, headers jsonb, wake_event text, event_payload jsonb)
    language plpgsql
    set plan_cache_mode = force_generic_plan
    set enable_hashjoin = off
    set enable_mergejoin = off
    set enable_seqscan = off
    set jit = off
    as $body$
    #variable_conflict use_column
    declare
      v_cancel_due boolean;
      v_lease_due boolean;
    begin
      select exists (select 1 from absurd.%2$I t where t.cancel_deadline <= p_now),
             exists (select 1 from absurd.%3$I r where r.state = 'running' and r.claim_expires_at <= p_now)
        into v_cancel_due, v_lease_due;
      if v_cancel_due or v_lease_due then
        perform absurd.claim_sweep(%5$L, p_now, p_qty, v_cancel_due, v_lease_due);
      end if;
      return query
        with candidate as (
          select r.run_id
          from absurd.%3$I r
          join absurd.%2$I t on t.task_id = r.task_id
          where r.state in ('pending', 'sleeping') and r.available_at <= p_now
            and t.state not in ('completed', 'failed', 'cancelled')
          order by r.available_at, r.run_id
          limit p_qty
          for update of r skip locked
        ),
        claimed as (
          update absurd.%3$I r
          set state = 'running', claimed_by = p_worker,
              claim_expires_at = case when p_timeout > 0 then p_now + make_interval(secs => p_timeout) end,
              started_at = p_now, available_at = p_now
          from candidate c
          where r.run_id = c.run_id
          returning r.run_id, r.task_id, r.attempt, r.wake_event, r.event_payload
        ),
        task as (
          update absurd.%2$I t
          set state = 'running',
              attempts = greatest(t.attempts, c.attempt),
              first_started_at = coalesce(t.first_started_at, p_now),
              last_attempt_run = c.run_id,
              cancel_deadline = case when t.first_started_at is null
                                     then absurd.cancel_deadline(t.cancellation, t.enqueue_at, p_now)
                                     else t.cancel_deadline end
          from claimed c
          where t.task_id = c.task_id
          returning t.task_id, t.task_name, t.params, t.retry_strategy, t.max_attempts, t.headers
        ),
        expired_waits as (
          delete from absurd.%4$I w using claimed c where w.run_id = c.run_id and w.timeout_at <= p_now
        )
        select c.run_id, c.task_id, c.attempt, t.task_name, t.params, t.retry_strategy, t.max_attempts, t.headers,
               c.wake_event, c.event_payload
        from claimed c join task t on t.task_id = c.task_id
        order by c.run_id;
    end
    $body$
  $tmpl$, absurd.queue_function_name(p_queue_name, 'claim'), v_t, v_r, v_w, p_queue_name);

  -- checkpoint: one statement reads the owner run and task, extends a live lease, and upserts the
  -- checkpoint unless a newer attempt owns it. Reports the states seen so the caller can raise
  -- AB001/AB002; nothing is written for a failed run or a cancelled task.
  execute format($tmpl$
    create or replace function absurd.%1$I(p_task_id uuid, p_step_name text, p_state jsonb, p_owner_run uuid,
                                          p_extend_by integer, p_now timestamptz, out run_state text, out task_state text)
    language plpgsql
    set plan_cache_mode = force_generic_plan
    as $body$
    #variable_conflict use_column
    begin
      with run as (
        select r.run_id, r.attempt, r.state, t.state as task_state
        from absurd.%3$I r left join absurd.%2$I t on t.task_id = p_task_id
        where r.run_id = p_owner_run
      ),
      extended as (
        update absurd.%3$I r set claim_expires_at = p_now + make_interval(secs => p_extend_by)
        from run
        where p_extend_by > 0 and r.run_id = p_owner_run and r.claim_expires_at is not null
          and r.state not in ('pending', 'sleeping', 'completed', 'failed', 'cancelled')
          and run.task_state is distinct from 'cancelled'
      ),
      written as (
        insert into absurd.%4$I as c (task_id, checkpoint_name, state, status, owner_run_id, owner_attempt, updated_at)
        select p_task_id, p_step_name, p_state, 'committed', run.run_id, run.attempt, p_now
        from run
        where run.state <> 'failed' and run.task_state is distinct from 'cancelled'
        on conflict (task_id, checkpoint_name) do update
        set state = excluded.state, status = 'committed', owner_run_id = excluded.owner_run_id,
            owner_attempt = excluded.owner_attempt, updated_at = excluded.updated_at
        where coalesce(c.owner_attempt, (select o.attempt from absurd.%3$I o where o.run_id = c.owner_run_id), 0)
              <= excluded.owner_attempt
      )
      select run.state, run.task_state into run_state, task_state from run;
    end
    $body$
  $tmpl$, absurd.queue_function_name(p_queue_name, 'checkpoint'), v_t, v_r, v_c);

  -- checkpoint_states: what a starting run may replay (owner attempt <= its own, or ownerless).
  execute format($tmpl$
    create or replace function absurd.%1$I(p_task_id uuid, p_run_id uuid)
    returns table (checkpoint_name text, state jsonb, status text, owner_run_id uuid, updated_at timestamptz)
    language plpgsql
    set plan_cache_mode = force_generic_plan
    as $body$
    #variable_conflict use_column
    declare
      v_run_task uuid;
      v_attempt integer;
    begin
      select r.task_id, r.attempt into v_run_task, v_attempt from absurd.%3$I r where r.run_id = p_run_id;
      if not found then
        raise exception 'run %% not found in queue %%', p_run_id, %4$L;
      end if;
      if v_run_task is distinct from p_task_id then
        raise exception 'run %% does not belong to task %% (it belongs to task %%)', p_run_id, p_task_id, v_run_task;
      end if;
      return query
        select c.checkpoint_name, c.state, c.status, c.owner_run_id, c.updated_at
        from absurd.%2$I c
        where c.task_id = p_task_id and c.status = 'committed'
          and coalesce(c.owner_attempt, (select o.attempt from absurd.%3$I o where o.run_id = c.owner_run_id), 0) <= v_attempt
        order by c.updated_at, c.checkpoint_name;
    end
    $body$
  $tmpl$, absurd.queue_function_name(p_queue_name, 'checkpoint_states'), v_c, v_r, p_queue_name);

  -- complete: lock the run, then finish run and task and drop the run's waits in one statement.
  -- Returns the state the run had, so the caller can report why nothing happened.
  execute format($tmpl$
    create or replace function absurd.%1$I(p_run_id uuid, p_result jsonb, p_now timestamptz) returns text
    language plpgsql
    set plan_cache_mode = force_generic_plan
    as $body$
    #variable_conflict use_column
    declare
      v_state text;
    begin
      with run as (
        select r.run_id, r.state from absurd.%3$I r where r.run_id = p_run_id for update
      ),
      completed as (
        update absurd.%3$I r set state = 'completed', completed_at = p_now, result = p_result
        from run
        where r.run_id = p_run_id and r.state not in ('pending', 'sleeping', 'completed', 'failed', 'cancelled')
        returning r.task_id
      ),
      task as (
        update absurd.%2$I t
        set state = 'completed', completed_payload = p_result, last_attempt_run = p_run_id, cancel_deadline = null
        from completed c
        where t.task_id = c.task_id
      ),
      waits as (
        delete from absurd.%4$I w using completed c where w.run_id = p_run_id
      )
      select run.state into v_state from run;
      return v_state;
    end
    $body$
  $tmpl$, absurd.queue_function_name(p_queue_name, 'complete'), v_t, v_r, v_w);

  -- schedule: put a running run to sleep until p_wake_at; returns the state the run had.
  execute format($tmpl$
    create or replace function absurd.%1$I(p_run_id uuid, p_wake_at timestamptz) returns text
    language plpgsql
    set plan_cache_mode = force_generic_plan
    as $body$
    #variable_conflict use_column
    declare
      v_state text;
    begin
      with run as (
        select r.run_id, r.state from absurd.%3$I r where r.run_id = p_run_id for update
      ),
      slept as (
        update absurd.%3$I r
        set state = 'sleeping', available_at = p_wake_at, claimed_by = null, claim_expires_at = null, wake_event = null
        from run
        where r.run_id = p_run_id and r.state not in ('pending', 'sleeping', 'completed', 'failed', 'cancelled')
        returning r.task_id
      ),
      task as (
        update absurd.%2$I t set state = 'sleeping' from slept s where t.task_id = s.task_id
      )
      select run.state into v_state from run;
      return v_state;
    end
    $body$
  $tmpl$, absurd.queue_function_name(p_queue_name, 'schedule'), v_t, v_r);

  -- extend: heartbeat; moves a live lease to now + extend_by and reports what it found.
  execute format($tmpl$
    create or replace function absurd.%1$I(p_run_id uuid, p_extend_by integer, p_now timestamptz,
                                          out run_state text, out lease_expires_at timestamptz, out task_state text)
    language plpgsql
    set plan_cache_mode = force_generic_plan
    as $body$
    #variable_conflict use_column
    begin
      with run as (
        select r.run_id, r.state, r.claim_expires_at, t.state as task_state
        from absurd.%3$I r left join absurd.%2$I t on t.task_id = r.task_id
        where r.run_id = p_run_id
        for update of r
      ),
      extended as (
        update absurd.%3$I r set claim_expires_at = p_now + make_interval(secs => p_extend_by)
        from run
        where r.run_id = p_run_id and r.claim_expires_at is not null
          and r.state not in ('pending', 'sleeping', 'completed', 'failed', 'cancelled')
          and run.task_state is distinct from 'cancelled'
      )
      select run.state, run.claim_expires_at, run.task_state into run_state, lease_expires_at, task_state from run;
    end
    $body$
  $tmpl$, absurd.queue_function_name(p_queue_name, 'extend'), v_t, v_r);
end
$$;

-- Only unpartitioned storage exists here; asking for partitions must fail loudly rather than
-- silently create something else. Repeating a create is harmless and re-checks the tables.
create or replace function absurd.create_queue(p_queue_name text, p_storage_mode text) returns void
language plpgsql
as $$
declare
  v_mode text := lower(btrim(p_storage_mode));
  v_existing text;
begin
  perform absurd.validate_queue_name(p_queue_name);
  if v_mode is null or v_mode not in ('unpartitioned', 'partitioned') then
    raise exception 'unknown storage mode %; use ''unpartitioned''', coalesce(quote_literal(p_storage_mode), 'NULL');
  end if;
  if v_mode = 'partitioned' then
    raise exception 'storage mode ''partitioned'' is not supported by this schema (queue %)', quote_literal(p_queue_name)
      using hint = 'Create the queue without storageMode (unpartitioned) and remove finished tasks with absurd.cleanup_tasks.';
  end if;
  insert into absurd.queues (queue_name, storage_mode) values (p_queue_name, v_mode)
  on conflict (queue_name) do nothing;
  -- Serialises concurrent creators of one queue before they touch the catalog.
  select q.storage_mode into v_existing from absurd.queues q where q.queue_name = p_queue_name for update;
  if v_existing <> v_mode then
    raise exception 'queue % already exists with storage mode %, not %', quote_literal(p_queue_name), v_existing, v_mode;
  end if;
  perform absurd.ensure_queue_tables(p_queue_name);
  perform absurd.ensure_queue_functions(p_queue_name);
end
$$;

-- The one-argument form the SDK uses for the default (unpartitioned) mode.
create or replace function absurd.create_queue(p_queue_name text) returns void
language sql
as $$
  select absurd.create_queue(p_queue_name, 'unpartitioned')
$$;

-- Removes a registered queue with all of its tables and generated functions. Deliberately skips
-- name validation so queues whose names later became invalid can still be removed; an
-- unregistered name is a no-op.
create or replace function absurd.drop_queue(p_queue_name text) returns void
language plpgsql
as $$
declare
  v_prefix text;
  v_function regprocedure;
begin
  perform 1 from absurd.queues q where q.queue_name = p_queue_name for update;
  if not found then
    return;
  end if;
  for v_function in
    select p.oid::regprocedure from pg_catalog.pg_proc p
    where p.pronamespace = 'absurd'::regnamespace
      and starts_with(p.proname::text, absurd.queue_function_name(p_queue_name, ''))
  loop
    execute format('drop function %s', v_function);
  end loop;
  foreach v_prefix in array array['w_', 'c_', 'e_', 'r_', 't_', 'i_'] loop
    execute format('drop table if exists absurd.%I cascade', v_prefix || p_queue_name);
  end loop;
  delete from absurd.queues q where q.queue_name = p_queue_name;
end
$$;

-- All registered queues, by name.
create or replace function absurd.list_queues() returns table (queue_name text)
language sql stable
as $$
  select q.queue_name from absurd.queues q order by q.queue_name
$$;

-- The stored maintenance policy of one queue; no row for an unknown queue.
create or replace function absurd.get_queue_policy(p_queue_name text)
returns table (
  queue_name text, storage_mode text, default_partition text, partition_lookahead interval,
  partition_lookback interval, cleanup_ttl interval, cleanup_limit integer, detach_mode text,
  detach_min_age interval
)
language sql stable
as $$
  select q.queue_name, q.storage_mode, q.default_partition, q.partition_lookahead, q.partition_lookback,
         q.cleanup_ttl, q.cleanup_limit, q.detach_mode, q.detach_min_age
  from absurd.queues q
  where q.queue_name = p_queue_name
$$;

-- Parses one interval-valued policy key with an error that names the key.
create or replace function absurd.policy_interval(p_policy jsonb, p_key text, p_current interval) returns interval
language plpgsql stable
as $$
declare
  v_value interval;
begin
  if not (p_policy ? p_key) then
    return p_current;
  end if;
  if jsonb_typeof(p_policy -> p_key) is distinct from 'string' then
    raise exception 'queue policy key % must be an interval string such as ''30 days'', got %', p_key, p_policy -> p_key;
  end if;
  begin
    v_value := (p_policy ->> p_key)::interval;
  exception when others then
    raise exception 'queue policy key % is not a valid interval: %', p_key, quote_literal(p_policy ->> p_key)
      using hint = 'Use PostgreSQL interval syntax such as ''30 days'' or ''12 hours''.';
  end;
  if v_value < interval '0' then
    raise exception 'queue policy key % must not be negative, got %', p_key, quote_literal(p_policy ->> p_key);
  end if;
  return v_value;
end
$$;

-- Updates the keys present in the policy object and keeps the rest; unknown keys and values that
-- this schema cannot honour are rejected instead of ignored.
create or replace function absurd.set_queue_policy(p_queue_name text, p_policy jsonb) returns void
language plpgsql
as $$
declare
  v_queue absurd.queues%rowtype;
  v_unknown text;
  v_limit integer;
  v_detach text;
begin
  perform absurd.validate_queue_name(p_queue_name);
  if p_policy is null or jsonb_typeof(p_policy) <> 'object' then
    raise exception 'queue policy must be a JSON object, got %', coalesce(p_policy::text, 'NULL');
  end if;
  select string_agg(quote_literal(k), ', ' order by k) into v_unknown
  from jsonb_object_keys(p_policy) k
  where k not in ('partition_lookahead', 'partition_lookback', 'cleanup_ttl', 'cleanup_limit', 'detach_mode',
                  'detach_min_age', 'default_partition');
  if v_unknown is not null then
    raise exception 'unknown queue policy key(s): %', v_unknown
      using hint = 'Allowed keys: partition_lookahead, partition_lookback, cleanup_ttl, cleanup_limit, detach_mode, detach_min_age.';
  end if;
  select * into v_queue from absurd.queues q where q.queue_name = p_queue_name for update;
  if not found then
    perform absurd.raise_if_unknown_queue(p_queue_name);
  end if;
  if p_policy ? 'default_partition' then
    raise exception 'queue policy key default_partition applies only to partitioned queues, and storage mode ''partitioned'' is not supported by this schema';
  end if;
  v_limit := v_queue.cleanup_limit;
  if p_policy ? 'cleanup_limit' then
    if jsonb_typeof(p_policy -> 'cleanup_limit') is distinct from 'number'
       or (p_policy ->> 'cleanup_limit')::numeric <> trunc((p_policy ->> 'cleanup_limit')::numeric)
       or (p_policy ->> 'cleanup_limit')::numeric < 1 then
      raise exception 'queue policy key cleanup_limit must be an integer >= 1, got %', p_policy -> 'cleanup_limit';
    end if;
    v_limit := (p_policy ->> 'cleanup_limit')::numeric::integer;
  end if;
  v_detach := v_queue.detach_mode;
  if p_policy ? 'detach_mode' then
    v_detach := lower(btrim(p_policy ->> 'detach_mode'));
    if v_detach is null or v_detach not in ('none', 'empty') then
      raise exception 'queue policy key detach_mode must be ''none'' or ''empty'', got %', p_policy -> 'detach_mode';
    end if;
  end if;
  update absurd.queues q set
    partition_lookahead = absurd.policy_interval(p_policy, 'partition_lookahead', v_queue.partition_lookahead),
    partition_lookback = absurd.policy_interval(p_policy, 'partition_lookback', v_queue.partition_lookback),
    cleanup_ttl = absurd.policy_interval(p_policy, 'cleanup_ttl', v_queue.cleanup_ttl),
    detach_min_age = absurd.policy_interval(p_policy, 'detach_min_age', v_queue.detach_min_age),
    cleanup_limit = v_limit,
    detach_mode = v_detach
  where q.queue_name = p_queue_name;
end
$$;

-- When the cancellation policy next fires: max_delay counts from enqueue until the first claim,
-- max_duration from the first claim on. Stored on the task so the claim-time sweep is an index probe.
create or replace function absurd.cancel_deadline(p_cancellation jsonb, p_enqueue_at timestamptz, p_first_started_at timestamptz)
returns timestamptz
language sql stable
as $$
  select case
    when p_first_started_at is null
      then p_enqueue_at + make_interval(secs => (p_cancellation ->> 'max_delay')::double precision)
    else p_first_started_at + make_interval(secs => (p_cancellation ->> 'max_duration')::double precision)
  end
$$;

-- Seconds to wait before retrying a failed attempt: none/unknown/absent kinds retry at once, fixed
-- waits base_seconds (default 60), exponential waits base * factor^(attempt - 1) capped at
-- max_seconds. Capped at 100 years so runaway exponents cannot overflow timestamp arithmetic.
create or replace function absurd.retry_delay(p_strategy jsonb, p_attempt integer) returns double precision
language plpgsql immutable
as $$
declare
  v_kind text := p_strategy ->> 'kind';
  v_delay double precision;
begin
  if v_kind = 'fixed' then
    v_delay := coalesce((p_strategy ->> 'base_seconds')::double precision, 60);
  elsif v_kind = 'exponential' then
    begin
      v_delay := coalesce((p_strategy ->> 'base_seconds')::double precision, 30)
        * power(coalesce((p_strategy ->> 'factor')::double precision, 2), greatest(p_attempt - 1, 0));
    exception when numeric_value_out_of_range then
      v_delay := 'infinity';
    end;
    if p_strategy ->> 'max_seconds' is not null then
      v_delay := least(v_delay, (p_strategy ->> 'max_seconds')::double precision);
    end if;
  else
    v_delay := 0;
  end if;
  return least(greatest(v_delay, 0), 3153600000);
end
$$;

-- Checks spawn options up front, so a bad value fails the spawn with a clear message instead of
-- breaking a later claim or retry of the whole queue.
create or replace function absurd.validate_spawn_options(p_options jsonb) returns void
language plpgsql immutable
as $$
declare
  v_value jsonb;
  v_key text;
begin
  if jsonb_typeof(p_options) <> 'object' then
    raise exception 'spawn options must be a JSON object, got %', p_options;
  end if;
  v_value := p_options -> 'max_attempts';
  if v_value is not null and v_value <> 'null'::jsonb then
    if jsonb_typeof(v_value) <> 'number' or v_value::text::numeric <> trunc(v_value::text::numeric)
       or v_value::text::numeric < 1 or v_value::text::numeric > 2147483647 then
      raise exception 'max_attempts must be an integer >= 1 (or null for unlimited), got %', v_value;
    end if;
  end if;
  v_value := p_options -> 'retry_strategy';
  if v_value is not null and v_value <> 'null'::jsonb then
    if jsonb_typeof(v_value) <> 'object' then
      raise exception 'retry_strategy must be an object like {"kind": "exponential", "base_seconds": 30}, got %', v_value;
    end if;
    if v_value ? 'kind' and jsonb_typeof(v_value -> 'kind') not in ('string', 'null') then
      raise exception 'retry_strategy.kind must be a string (none, fixed or exponential), got %', v_value -> 'kind';
    end if;
    foreach v_key in array array['base_seconds', 'factor', 'max_seconds'] loop
      if v_value ? v_key and jsonb_typeof(v_value -> v_key) not in ('number', 'null') then
        raise exception 'retry_strategy.% must be a number, got %', v_key, v_value -> v_key;
      end if;
    end loop;
  end if;
  v_value := p_options -> 'cancellation';
  if v_value is not null and v_value <> 'null'::jsonb then
    if jsonb_typeof(v_value) <> 'object' then
      raise exception 'cancellation must be an object like {"max_duration": 3600}, got %', v_value;
    end if;
    foreach v_key in array array['max_delay', 'max_duration'] loop
      if v_value ? v_key and v_value -> v_key <> 'null'::jsonb
         and (jsonb_typeof(v_value -> v_key) <> 'number' or (v_value ->> v_key)::numeric < 0
              or (v_value ->> v_key)::numeric > 3153600000) then
        raise exception 'cancellation.% must be a number of seconds between 0 and 3153600000, got %', v_key, v_value -> v_key;
      end if;
    end loop;
  end if;
  v_value := p_options -> 'headers';
  if v_value is not null and jsonb_typeof(v_value) not in ('object', 'null') then
    raise exception 'headers must be a JSON object, got %', v_value;
  end if;
end
$$;

-- Enqueues a task with its first run (idempotency keys are race-safe: see the queue's spawn
-- function). Options are validated here so a bad value fails the spawn, not a later claim.
create or replace function absurd.spawn_task(p_queue_name text, p_task_name text, p_params jsonb, p_options jsonb default '{}')
returns table (task_id uuid, run_id uuid, attempt integer, created boolean)
language plpgsql
as $$
declare
  v_options jsonb := coalesce(p_options, '{}'::jsonb);
begin
  if p_task_name is null or btrim(p_task_name) = '' then
    raise exception 'task_name must be a non-blank string';
  end if;
  perform absurd.validate_spawn_options(v_options);
  return query execute format('select * from %s($1, $2, $3, $4)', absurd.queue_function(p_queue_name, 'spawn'))
    using p_task_name, p_params, v_options, absurd.current_time();
  if not found then
    raise exception 'could not spawn task with idempotency key % in queue %: the key kept changing hands',
      v_options ->> 'idempotency_key', quote_literal(p_queue_name)
      using errcode = 'serialization_failure', hint = 'Retry the spawn.';
  end if;
end
$$;

-- Runs the two claim-time sweeps when the queue's claim function found work for them: cancel
-- tasks whose cancellation policy fired, and fail up to qty runs whose lease expired (through
-- the normal retry rules, so a retry due now can be claimed by the same call).
create or replace function absurd.claim_sweep(p_queue_name text, p_now timestamptz, p_qty integer, p_cancel_due boolean, p_lease_due boolean)
returns void
language plpgsql
as $$
declare
  v_task_id uuid;
  v_expired record;
begin
  if p_cancel_due then
    for v_task_id in execute format($q$select task_id from absurd.%I where cancel_deadline <= $1
                                       order by cancel_deadline$q$, 't_' || p_queue_name) using p_now loop
      perform absurd.cancel_task_internal(p_queue_name, v_task_id, p_now);
    end loop;
  end if;
  if p_lease_due then
    for v_expired in execute format($q$select run_id, claimed_by, claim_expires_at, attempt from absurd.%I
                                       where state = 'running' and claim_expires_at <= $1
                                       order by claim_expires_at limit $2 for update skip locked$q$, 'r_' || p_queue_name)
                     using p_now, p_qty loop
      perform absurd.fail_run_internal(p_queue_name, v_expired.run_id,
        jsonb_strip_nulls(jsonb_build_object(
          'name', '$ClaimTimeout',
          'message', format('worker %s did not finish or extend its claim on run %s before it expired at %s',
                            coalesce(v_expired.claimed_by, 'unknown'), v_expired.run_id, v_expired.claim_expires_at),
          'workerId', v_expired.claimed_by,
          'claimExpiredAt', v_expired.claim_expires_at,
          'attempt', v_expired.attempt)),
        null, p_now);
    end loop;
  end if;
end
$$;

-- Hands out up to qty due runs to a worker. Normalises the arguments (NULL timeout means 30, a
-- negative one 0 = no lease; blank worker id means "worker"; qty below 1 means 1) and dispatches
-- to the queue's claim function.
create or replace function absurd.claim_task(p_queue_name text, p_worker_id text, p_claim_timeout integer default 30, p_qty integer default 1)
returns table (
  run_id uuid, task_id uuid, attempt integer, task_name text, params jsonb, retry_strategy jsonb,
  max_attempts integer, headers jsonb, wake_event text, event_payload jsonb
)
language plpgsql
as $$
begin
  return query execute format('select * from %s($1, $2, $3, $4)', absurd.queue_function(p_queue_name, 'claim'))
    using absurd.current_time(), coalesce(nullif(btrim(p_worker_id), ''), 'worker'),
          greatest(coalesce(p_claim_timeout, 30), 0), greatest(coalesce(p_qty, 1), 1);
end
$$;

-- Finishes a running run and its task. No lease check: an expired lease that no claim has swept
-- yet can still complete.
create or replace function absurd.complete_run(p_queue_name text, p_run_id uuid, p_result jsonb default null) returns void
language plpgsql
as $$
declare
  v_state text;
begin
  execute format('select %s($1, $2, $3)', absurd.queue_function(p_queue_name, 'complete'))
    into v_state using p_run_id, p_result, absurd.current_time();
  if v_state = 'running' then
    return;
  elsif v_state is null then
    raise exception 'run % not found in queue %', p_run_id, quote_literal(p_queue_name);
  elsif v_state = 'cancelled' then
    raise exception 'task of run % has been cancelled', p_run_id using errcode = 'AB001';
  elsif v_state = 'failed' then
    raise exception 'run % has already failed (its claim may have expired)', p_run_id using errcode = 'AB002';
  else
    raise exception 'run % is %, not currently running, so it cannot complete', p_run_id, v_state;
  end if;
end
$$;

-- Puts a running run to sleep until p_wake_at (sleepFor/sleepUntil, unknown-task deferral). Never
-- uses AB codes: the SDK then fails the run, and fail_run reports the terminal state.
create or replace function absurd.schedule_run(p_queue_name text, p_run_id uuid, p_wake_at timestamptz) returns void
language plpgsql
as $$
declare
  v_state text;
begin
  if p_wake_at is null then
    raise exception 'wake_at must not be null';
  end if;
  execute format('select %s($1, $2)', absurd.queue_function(p_queue_name, 'schedule'))
    into v_state using p_run_id, p_wake_at;
  if v_state is null then
    raise exception 'run % not found in queue %', p_run_id, quote_literal(p_queue_name);
  elsif v_state <> 'running' then
    raise exception 'run % is %, not currently running, so it cannot be scheduled', p_run_id, v_state;
  end if;
  if p_wake_at <= absurd.current_time() then
    perform pg_notify('absurd_wakeup', p_queue_name);
  end if;
end
$$;

-- Saves a step result; a stale attempt never overwrites what a newer attempt wrote, a failed run
-- reports AB002 and a cancelled task AB001 (both before anything is written).
create or replace function absurd.set_task_checkpoint_state(
  p_queue_name text, p_task_id uuid, p_step_name text, p_state jsonb, p_owner_run uuid,
  p_extend_claim_by integer default null
) returns void
language plpgsql
as $$
declare
  v_run_state text;
  v_task_state text;
begin
  if p_step_name is null or btrim(p_step_name) = '' then
    raise exception 'checkpoint step_name must be a non-blank string';
  end if;
  execute format('select * from %s($1, $2, $3, $4, $5, $6)', absurd.queue_function(p_queue_name, 'checkpoint'))
    into v_run_state, v_task_state
    using p_task_id, p_step_name, p_state, p_owner_run, p_extend_claim_by, absurd.current_time();
  if v_run_state is null then
    raise exception 'run % not found in queue %', p_owner_run, quote_literal(p_queue_name);
  elsif v_task_state = 'cancelled' then
    raise exception 'task % has been cancelled', p_task_id using errcode = 'AB001';
  elsif v_run_state = 'failed' then
    raise exception 'run % has already failed (its claim may have expired)', p_owner_run using errcode = 'AB002';
  end if;
end
$$;

-- The SDK's cache-miss lookup for one step; it does not filter by run or attempt. Simple enough
-- that planning it dynamically costs less than dispatching.
create or replace function absurd.get_task_checkpoint_state(p_queue_name text, p_task_id uuid, p_step_name text, p_include_pending boolean default false)
returns table (checkpoint_name text, state jsonb, status text, owner_run_id uuid, updated_at timestamptz)
language plpgsql
as $$
begin
  return query execute format($q$
    select c.checkpoint_name, c.state, c.status, c.owner_run_id, c.updated_at
    from absurd.%I c
    where c.task_id = $1 and c.checkpoint_name = $2 and (c.status = 'committed' or $3)
  $q$, 'c_' || p_queue_name)
  using p_task_id, p_step_name, coalesce(p_include_pending, false);
exception when undefined_table then
  perform absurd.raise_if_unknown_queue(p_queue_name);
  raise;
end
$$;

-- Everything a starting run may replay: committed checkpoints written by attempts up to its own
-- (and ownerless ones), oldest first.
create or replace function absurd.get_task_checkpoint_states(p_queue_name text, p_task_id uuid, p_run_id uuid)
returns table (checkpoint_name text, state jsonb, status text, owner_run_id uuid, updated_at timestamptz)
language plpgsql
as $$
begin
  return query execute format('select * from %s($1, $2)', absurd.queue_function(p_queue_name, 'checkpoint_states'))
    using p_task_id, p_run_id;
end
$$;

-- Heartbeat: moves a live lease to now + extend_by (from now, not from the old expiry).
create or replace function absurd.extend_claim(p_queue_name text, p_run_id uuid, p_extend_by integer) returns void
language plpgsql
as $$
declare
  v_run_state text;
  v_lease_expires_at timestamptz;
  v_task_state text;
begin
  if p_extend_by is null or p_extend_by <= 0 then
    raise exception 'extend_by must be > 0 (got %)', coalesce(p_extend_by::text, 'NULL');
  end if;
  execute format('select * from %s($1, $2, $3)', absurd.queue_function(p_queue_name, 'extend'))
    into v_run_state, v_lease_expires_at, v_task_state using p_run_id, p_extend_by, absurd.current_time();
  if v_run_state is null then
    raise exception 'run % not found in queue %', p_run_id, quote_literal(p_queue_name);
  elsif v_task_state = 'cancelled' or v_run_state = 'cancelled' then
    raise exception 'task of run % has been cancelled', p_run_id using errcode = 'AB001';
  elsif v_run_state = 'failed' then
    raise exception 'run % has already failed (its claim may have expired)', p_run_id using errcode = 'AB002';
  elsif v_run_state <> 'running' then
    raise exception 'run % is %, not currently running, so its claim cannot be extended', p_run_id, v_run_state;
  elsif v_lease_expires_at is null then
    raise exception 'run % was claimed without a lease (claim timeout 0), so there is no claim to extend', p_run_id;
  end if;
end
$$;

-- Cancels one task: its live runs are locked first, then the task (the same order as complete_run
-- and fail_run, so the two never deadlock). Returns the task state seen, or null for no such task.
create or replace function absurd.cancel_task_internal(p_queue_name text, p_task_id uuid, p_now timestamptz) returns text
language plpgsql
as $$
declare
  v_state text;
begin
  execute format($q$select 1 from absurd.%I where task_id = $1 and state in ('pending', 'running', 'sleeping')
                    order by run_id for update$q$, 'r_' || p_queue_name)
    using p_task_id;
  execute format('select state from absurd.%I where task_id = $1 for update', 't_' || p_queue_name)
    into v_state using p_task_id;
  if v_state is null then
    return null;
  end if;
  if v_state in ('completed', 'failed', 'cancelled') then
    execute format('update absurd.%I set cancel_deadline = null where task_id = $1 and cancel_deadline is not null',
                   't_' || p_queue_name) using p_task_id;
    return v_state;
  end if;
  execute format($q$
    with task as (
      update absurd.%1$I set state = 'cancelled', cancelled_at = coalesce(cancelled_at, $2), cancel_deadline = null
      where task_id = $1
    ),
    runs as (
      update absurd.%2$I set state = 'cancelled', claimed_by = null, claim_expires_at = null
      where task_id = $1 and state in ('pending', 'running', 'sleeping')
    )
    delete from absurd.%3$I where task_id = $1
  $q$, 't_' || p_queue_name, 'r_' || p_queue_name, 'w_' || p_queue_name)
  using p_task_id, p_now;
  return v_state;
end
$$;

-- Public cancellation. A running handler is not interrupted; it meets AB001 at its next call.
create or replace function absurd.cancel_task(p_queue_name text, p_task_id uuid) returns void
language plpgsql
as $$
declare
  v_state text;
begin
  v_state := absurd.cancel_task_internal(p_queue_name, p_task_id, absurd.current_time());
  if v_state is null then
    raise exception 'task % not found in queue %', p_task_id, quote_literal(p_queue_name);
  end if;
exception when undefined_table then
  perform absurd.raise_if_unknown_queue(p_queue_name);
  raise;
end
$$;

-- Fails a run and applies the retry rules: a new run (attempt + 1) when attempts remain, the task
-- cancelled instead when the retry would start past max_duration, otherwise the task fails. Shared
-- by fail_run and the lease-expiry sweep in claim_task.
create or replace function absurd.fail_run_internal(p_queue_name text, p_run_id uuid, p_reason jsonb, p_retry_at timestamptz, p_now timestamptz)
returns void
language plpgsql
as $$
declare
  v_run record;
  v_task record;
  v_next integer;
  v_retry_at timestamptz;
  v_new_run uuid;
  v_new_state text;
begin
  execute format('select task_id, attempt, state from absurd.%I where run_id = $1 for update', 'r_' || p_queue_name)
    into v_run using p_run_id;
  if v_run.task_id is null then
    raise exception 'run % not found in queue %', p_run_id, quote_literal(p_queue_name);
  end if;
  if v_run.state = 'cancelled' then
    raise exception 'task of run % has been cancelled', p_run_id using errcode = 'AB001';
  elsif v_run.state = 'failed' then
    raise exception 'run % has already failed (its claim may have expired)', p_run_id using errcode = 'AB002';
  elsif v_run.state not in ('running', 'sleeping') then
    raise exception 'run % is %, not currently running or sleeping, so it cannot fail', p_run_id, v_run.state;
  end if;
  execute format($q$select max_attempts, retry_strategy, cancellation, first_started_at
                    from absurd.%I where task_id = $1 for update$q$, 't_' || p_queue_name)
    into v_task using v_run.task_id;
  execute format($q$
    with failed as (
      update absurd.%1$I set state = 'failed', failed_at = $2, failure_reason = $3, wake_event = null where run_id = $1
    )
    delete from absurd.%2$I where run_id = $1
  $q$, 'r_' || p_queue_name, 'w_' || p_queue_name)
  using p_run_id, p_now, coalesce(p_reason, 'null'::jsonb);

  v_next := v_run.attempt + 1;
  if v_task.max_attempts is not null and v_next > v_task.max_attempts then
    execute format($q$update absurd.%I set state = 'failed', attempts = greatest(attempts, $2), last_attempt_run = $3,
                      cancel_deadline = null where task_id = $1$q$, 't_' || p_queue_name)
      using v_run.task_id, v_run.attempt, p_run_id;
    return;
  end if;

  v_retry_at := greatest(coalesce(p_retry_at, p_now + make_interval(secs => absurd.retry_delay(v_task.retry_strategy, v_run.attempt))), p_now);
  if v_task.first_started_at is not null and v_task.cancellation ->> 'max_duration' is not null
     and v_retry_at >= v_task.first_started_at + make_interval(secs => (v_task.cancellation ->> 'max_duration')::double precision) then
    execute format($q$update absurd.%I set state = 'cancelled', cancelled_at = coalesce(cancelled_at, $2),
                      last_attempt_run = $3, cancel_deadline = null where task_id = $1$q$, 't_' || p_queue_name)
      using v_run.task_id, p_now, p_run_id;
    return;
  end if;

  v_new_run := absurd.portable_uuidv7(p_now);
  v_new_state := case when v_retry_at <= p_now then 'pending' else 'sleeping' end;
  execute format($q$
    with retry as (
      insert into absurd.%1$I (run_id, task_id, attempt, state, available_at, created_at)
      values ($2, $1, $3, $4, $5, $6)
    )
    update absurd.%2$I set state = $4, attempts = greatest(attempts, $3), last_attempt_run = $2 where task_id = $1
  $q$, 'r_' || p_queue_name, 't_' || p_queue_name)
  using v_run.task_id, v_new_run, v_next, v_new_state, v_retry_at, p_now;
  if v_new_state = 'pending' then
    perform pg_notify('absurd_wakeup', p_queue_name);
  end if;
end
$$;

-- The SDK's failure path. Sleeping runs may fail too; cancelled and failed runs report AB001/AB002.
create or replace function absurd.fail_run(p_queue_name text, p_run_id uuid, p_reason jsonb, p_retry_at timestamptz default null)
returns void
language plpgsql
as $$
begin
  perform absurd.fail_run_internal(p_queue_name, p_run_id, p_reason, p_retry_at, absurd.current_time());
exception when undefined_table then
  perform absurd.raise_if_unknown_queue(p_queue_name);
  raise;
end
$$;

-- Hands out up to qty due runs. First the two sweeps (cancellation policies, expired leases) run,
-- each only when an index probe finds work; then one statement claims runs in (available_at,
-- Finishes a running run and its task in one statement; the run row is locked before the task.
-- Puts a running run to sleep until p_wake_at (sleepFor/sleepUntil, unknown-task deferral). Never
-- Saves a step result in one statement: it reads the owner run and task, extends a live lease, and
-- Everything a starting run may replay: committed checkpoints written by attempts up to its own
-- Waits for an event. The event row is share-locked (created as a placeholder if needed) before the
-- run is examined, and emit_event's upsert takes the conflicting lock, so whichever commits first
-- the other sees it: no wake-up is lost.
create or replace function absurd.await_event(
  p_queue_name text, p_task_id uuid, p_run_id uuid, p_step_name text, p_event_name text, p_timeout integer default null
) returns table (should_suspend boolean, payload jsonb)
language plpgsql
as $$
declare
  v_now timestamptz := absurd.current_time();
  v_e text := 'e_' || p_queue_name;
  v_checkpoint jsonb;
  v_event_found boolean;
  v_event_payload jsonb;
  v_run record;
  v_result jsonb;
  v_timeout_at timestamptz;
begin
  if p_event_name is null or btrim(p_event_name) = '' then
    raise exception 'event_name must be a non-blank string';
  end if;
  if p_step_name is null or btrim(p_step_name) = '' then
    raise exception 'step_name must be a non-blank string';
  end if;
  if p_timeout < 0 then
    raise exception 'timeout must be >= 0 seconds (or null for no timeout), got %', p_timeout;
  end if;

  begin
    execute format('select c.state from absurd.%I c where c.task_id = $1 and c.checkpoint_name = $2',
                   'c_' || p_queue_name)
      into v_checkpoint using p_task_id, p_step_name;
  exception when undefined_table then
    perform absurd.raise_if_unknown_queue(p_queue_name);
    raise;
  end;
  if v_checkpoint is not null then
    return query select false, v_checkpoint;
    return;
  end if;

  execute format('select true, e.payload from absurd.%I e where e.event_name = $1 for share', v_e)
    into v_event_found, v_event_payload using p_event_name;
  if v_event_found is null then
    execute format($q$insert into absurd.%I (event_name, payload, emitted_at) values ($1, null, 'epoch')
                      on conflict (event_name) do nothing returning true$q$, v_e)
      into v_event_found using p_event_name;
    if v_event_found is null then
      -- Someone else created the row meanwhile; this fresh statement sees it and locks it.
      execute format('select true, e.payload from absurd.%I e where e.event_name = $1 for share', v_e)
        into v_event_found, v_event_payload using p_event_name;
    end if;
  end if;

  execute format($q$select r.state, r.attempt, r.wake_event, r.event_payload, t.state as task_state
                    from absurd.%1$I r left join absurd.%2$I t on t.task_id = $2
                    where r.run_id = $1 for update of r$q$, 'r_' || p_queue_name, 't_' || p_queue_name)
    into v_run using p_run_id, p_task_id;
  if v_run.state is null then
    raise exception 'run % not found in queue %', p_run_id, quote_literal(p_queue_name);
  end if;
  if v_run.task_state = 'cancelled' then
    raise exception 'task % has been cancelled', p_task_id using errcode = 'AB001';
  end if;
  if v_run.event_payload is not null then
    execute format('update absurd.%I set event_payload = null where run_id = $1', 'r_' || p_queue_name) using p_run_id;
    if v_run.event_payload = v_event_payload then
      v_result := v_run.event_payload;
    end if;
  end if;
  if v_run.state <> 'running' then
    raise exception 'run % is %; await_event needs it to be running (must be running)', p_run_id, v_run.state;
  end if;
  if v_result is null and v_event_payload is not null then
    v_result := v_event_payload;
  end if;

  if v_result is not null then
    execute format($q$
      insert into absurd.%I as c (task_id, checkpoint_name, state, status, owner_run_id, owner_attempt, updated_at)
      values ($1, $2, $3, 'committed', $4, $5, $6)
      on conflict (task_id, checkpoint_name) do update
      set state = excluded.state, status = 'committed', owner_run_id = excluded.owner_run_id,
          owner_attempt = excluded.owner_attempt, updated_at = excluded.updated_at
    $q$, 'c_' || p_queue_name)
    using p_task_id, p_step_name, v_result, p_run_id, v_run.attempt, v_now;
    return query select false, v_result;
    return;
  end if;

  if v_run.wake_event = p_event_name and v_run.event_payload is null then
    -- The previous wait on this event timed out: report it once, without a new wait.
    execute format('update absurd.%I set wake_event = null where run_id = $1', 'r_' || p_queue_name) using p_run_id;
    return query select false, null::jsonb;
    return;
  end if;

  v_timeout_at := case when p_timeout is not null then v_now + make_interval(secs => p_timeout) end;
  execute format($q$
    with wait as (
      insert into absurd.%1$I (run_id, step_name, task_id, event_name, timeout_at, created_at)
      values ($1, $2, $3, $4, $5, $6)
      on conflict (run_id, step_name) do update
      set task_id = excluded.task_id, event_name = excluded.event_name, timeout_at = excluded.timeout_at,
          created_at = excluded.created_at
    ),
    run as (
      update absurd.%2$I
      set state = 'sleeping', claimed_by = null, claim_expires_at = null,
          available_at = coalesce($5, 'infinity'), wake_event = $4, event_payload = null
      where run_id = $1
    )
    update absurd.%3$I set state = 'sleeping' where task_id = $3
  $q$, 'w_' || p_queue_name, 'r_' || p_queue_name, 't_' || p_queue_name)
  using p_run_id, p_step_name, p_task_id, p_event_name, v_timeout_at, v_now;
  if v_timeout_at is not null and v_timeout_at <= v_now then
    perform pg_notify('absurd_wakeup', p_queue_name);
  end if;
  return query select true, null::jsonb;
end
$$;

-- Emits an event once (the first emit wins) and wakes its live waiters. Recording the payload and
-- the wake-up pass are separate statements on purpose: the pass must run with a snapshot taken
-- after any waiter that held the event row has committed its wait.
create or replace function absurd.emit_event(p_queue_name text, p_event_name text, p_payload jsonb default null) returns void
language plpgsql
as $$
declare
  v_now timestamptz := absurd.current_time();
  v_payload jsonb := coalesce(p_payload, 'null'::jsonb);
  v_recorded boolean;
  v_woken integer;
begin
  if p_event_name is null or btrim(p_event_name) = '' then
    raise exception 'event_name must be a non-blank string';
  end if;
  begin
    execute format($q$
      insert into absurd.%1$I as e (event_name, payload, emitted_at) values ($1, $2, $3)
      on conflict (event_name) do update set payload = excluded.payload, emitted_at = excluded.emitted_at
      where e.payload is null
      returning true
    $q$, 'e_' || p_queue_name)
    into v_recorded using p_event_name, v_payload, v_now;
  exception when undefined_table then
    perform absurd.raise_if_unknown_queue(p_queue_name);
    raise;
  end;
  if v_recorded is null then
    return;
  end if;
  execute format($q$
    with expired as (
      delete from absurd.%1$I w where w.event_name = $1 and w.timeout_at <= $3
    ),
    woken as (
      update absurd.%2$I r
      set state = 'pending', available_at = $3, wake_event = null, event_payload = $2,
          claimed_by = null, claim_expires_at = null
      from absurd.%1$I w
      where w.event_name = $1 and (w.timeout_at is null or w.timeout_at > $3)
        and r.run_id = w.run_id and r.state not in ('pending', 'running', 'completed', 'failed', 'cancelled')
      returning r.run_id, r.task_id, r.attempt, w.step_name
    ),
    checkpoint as (
      insert into absurd.%3$I as c (task_id, checkpoint_name, state, status, owner_run_id, owner_attempt, updated_at)
      select k.task_id, k.step_name, $2, 'committed', k.run_id, k.attempt, $3 from woken k
      on conflict (task_id, checkpoint_name) do update
      set state = excluded.state, status = 'committed', owner_run_id = excluded.owner_run_id,
          owner_attempt = excluded.owner_attempt, updated_at = excluded.updated_at
    ),
    task as (
      update absurd.%4$I t set state = 'pending' from woken k where t.task_id = k.task_id
    ),
    used as (
      delete from absurd.%1$I w using woken k where w.run_id = k.run_id and w.step_name = k.step_name
    )
    select count(*)::integer from woken
  $q$, 'w_' || p_queue_name, 'r_' || p_queue_name, 'c_' || p_queue_name, 't_' || p_queue_name)
  into v_woken using p_event_name, v_payload, v_now;
  if v_woken > 0 then
    perform pg_notify('absurd_wakeup', p_queue_name);
  end if;
end
$$;

-- Retries a failed task: in place (a new run on the same task, checkpoints kept, so finished steps
-- are not repeated) or as a brand-new task with the same inputs.
create or replace function absurd.retry_task(p_queue_name text, p_task_id uuid, p_options jsonb default '{}')
returns table (task_id uuid, run_id uuid, attempt integer, created boolean)
language plpgsql
as $$
declare
  v_now timestamptz := absurd.current_time();
  v_options jsonb := coalesce(p_options, '{}'::jsonb);
  v_requested integer;
  v_task record;
  v_limit integer;
  v_run_id uuid;
  v_spawn_options jsonb;
begin
  if jsonb_typeof(v_options) <> 'object' then
    raise exception 'retry options must be a JSON object, got %', v_options;
  end if;
  if v_options -> 'max_attempts' is not null and v_options -> 'max_attempts' <> 'null'::jsonb then
    if jsonb_typeof(v_options -> 'max_attempts') <> 'number'
       or (v_options ->> 'max_attempts')::numeric <> trunc((v_options ->> 'max_attempts')::numeric)
       or (v_options ->> 'max_attempts')::numeric < 1 then
      raise exception 'max_attempts must be an integer >= 1, got %', v_options -> 'max_attempts';
    end if;
    v_requested := (v_options ->> 'max_attempts')::numeric::integer;
  end if;
  begin
    execute format($q$select t.task_name, t.params, t.headers, t.retry_strategy, t.max_attempts, t.cancellation,
                             t.state, t.attempts, t.enqueue_at, t.first_started_at
                      from absurd.%I t where t.task_id = $1 for update$q$, 't_' || p_queue_name)
      into v_task using p_task_id;
  exception when undefined_table then
    perform absurd.raise_if_unknown_queue(p_queue_name);
    raise;
  end;
  if v_task.state is null then
    raise exception 'task % not found in queue %', p_task_id, quote_literal(p_queue_name);
  end if;
  if v_task.state <> 'failed' then
    raise exception 'task % is %, not failed; only failed tasks can be retried', p_task_id, v_task.state;
  end if;

  if coalesce((v_options ->> 'spawn_new')::boolean, false) then
    v_spawn_options := jsonb_strip_nulls(jsonb_build_object(
      'headers', v_task.headers, 'retry_strategy', v_task.retry_strategy, 'cancellation', v_task.cancellation));
    v_spawn_options := v_spawn_options || jsonb_build_object('max_attempts', coalesce(v_requested, v_task.max_attempts));
    return query select s.task_id, s.run_id, s.attempt, s.created
      from absurd.spawn_task(p_queue_name, v_task.task_name, v_task.params, v_spawn_options) s;
    return;
  end if;

  v_limit := coalesce(v_requested, coalesce(v_task.max_attempts, v_task.attempts) + 1);
  if v_limit <= v_task.attempts then
    raise exception 'max_attempts % must be greater than current attempts (%)', v_limit, v_task.attempts;
  end if;
  v_run_id := absurd.portable_uuidv7(v_now);
  execute format($q$
    with run as (
      insert into absurd.%1$I (run_id, task_id, attempt, state, available_at, created_at)
      values ($2, $1, $3, 'pending', $4, $4)
    )
    update absurd.%2$I t
    set state = 'pending', attempts = $3, max_attempts = $5, last_attempt_run = $2, cancelled_at = null,
        cancel_deadline = absurd.cancel_deadline(t.cancellation, t.enqueue_at, t.first_started_at)
    where t.task_id = $1
  $q$, 'r_' || p_queue_name, 't_' || p_queue_name)
  using p_task_id, v_run_id, v_task.attempts + 1, v_now, v_limit;
  perform pg_notify('absurd_wakeup', p_queue_name);
  return query select p_task_id, v_run_id, v_task.attempts + 1, false;
end
$$;

-- A task's outcome: result only when completed, the last run's failure reason only when failed.
create or replace function absurd.get_task_result(p_queue_name text, p_task_id uuid)
returns table (task_id uuid, state text, result jsonb, failure_reason jsonb)
language plpgsql
as $$
begin
  perform absurd.validate_queue_name(p_queue_name);
  return query execute format($q$
    select t.task_id, t.state,
           case when t.state = 'completed' then t.completed_payload end,
           case when t.state = 'failed' then r.failure_reason end
    from absurd.%1$I t left join absurd.%2$I r on r.run_id = t.last_attempt_run
    where t.task_id = $1
  $q$, 't_' || p_queue_name, 'r_' || p_queue_name)
  using p_task_id;
exception when undefined_table then
  perform absurd.raise_if_unknown_queue(p_queue_name);
  raise;
end
$$;

-- The argument checks both cleanup functions share: a valid queue, a ttl >= 0, and the batch size
-- (the given limit, else the queue's cleanup_limit policy, else 1000), which must be >= 1.
create or replace function absurd.cleanup_batch_limit(p_queue_name text, p_ttl_seconds integer, p_limit integer)
returns integer
language plpgsql
as $$
declare
  v_limit integer;
begin
  perform absurd.validate_queue_name(p_queue_name);
  if p_ttl_seconds is null or p_ttl_seconds < 0 then
    raise exception 'ttl_seconds must be >= 0, got %', coalesce(p_ttl_seconds::text, 'NULL');
  end if;
  v_limit := coalesce(p_limit, (select q.cleanup_limit from absurd.queues q where q.queue_name = p_queue_name), 1000);
  if v_limit < 1 then
    raise exception 'cleanup limit must be >= 1, got %', v_limit;
  end if;
  return v_limit;
end
$$;

-- Deletes up to p_limit finished tasks (with their runs, checkpoints and waits) whose terminal time
-- is older than the ttl, oldest first; this also frees their idempotency keys.
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
    tasks as (delete from absurd.%1$I t using doomed d where t.task_id = d.task_id returning 1)
    select count(*)::integer from tasks
  $q$, 't_' || p_queue_name, 'r_' || p_queue_name, 'w_' || p_queue_name, 'c_' || p_queue_name)
  into v_deleted
  using absurd.current_time() - make_interval(secs => p_ttl_seconds), v_limit;
  return v_deleted;
exception when undefined_table then
  perform absurd.raise_if_unknown_queue(p_queue_name);
  raise;
end
$$;

-- Deletes up to p_limit events emitted before the ttl (placeholders carry the epoch and go first).
create or replace function absurd.cleanup_events(p_queue_name text, p_ttl_seconds integer, p_limit integer default null)
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
      select e.event_name from absurd.%1$I e where e.emitted_at < $1 order by e.emitted_at limit $2 for update skip locked
    ),
    gone as (delete from absurd.%1$I e using doomed d where e.event_name = d.event_name returning 1)
    select count(*)::integer from gone
  $q$, 'e_' || p_queue_name)
  into v_deleted
  using absurd.current_time() - make_interval(secs => p_ttl_seconds), v_limit;
  return v_deleted;
exception when undefined_table then
  perform absurd.raise_if_unknown_queue(p_queue_name);
  raise;
end
$$;

-- Applies each queue's own cleanup_ttl and cleanup_limit (or one queue's, when named), for a
-- periodic maintenance job.
create or replace function absurd.cleanup_all_queues(p_queue_name text default null)
returns table (queue_name text, tasks_deleted integer, events_deleted integer)
language plpgsql
as $$
declare
  v_queue record;
  v_ttl integer;
begin
  if p_queue_name is not null then
    perform absurd.validate_queue_name(p_queue_name);
    perform absurd.raise_if_unknown_queue(p_queue_name);
  end if;
  for v_queue in
    select q.queue_name, q.cleanup_ttl, q.cleanup_limit from absurd.queues q
    where p_queue_name is null or q.queue_name = p_queue_name
    order by q.queue_name
  loop
    v_ttl := least(extract(epoch from v_queue.cleanup_ttl), 2147483647)::integer;
    queue_name := v_queue.queue_name;
    tasks_deleted := absurd.cleanup_tasks(v_queue.queue_name, v_ttl, v_queue.cleanup_limit);
    events_deleted := absurd.cleanup_events(v_queue.queue_name, v_ttl, v_queue.cleanup_limit);
    return next;
  end loop;
end
$$;
