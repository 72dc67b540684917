-- Table-level compatibility with the protocol, and a cheaper step lookup.
--
-- Code that writes a queue's tables directly (tests, dashboards, hand-written SQL) finds what the
-- protocol promises: every "created/updated at" column defaults to absurd.current_time(), the primary
-- keys are named <table>_pkey and the idempotency key is a unique constraint with PostgreSQL's own
-- name (<table>_idempotency_key_key), so ON CONFLICT ON CONSTRAINT and migrations that name them work.
-- Queues created before this migration are altered in place; their rows are kept.
--
-- Queue names follow the protocol exactly: anything from 1 to 57 UTF-8 bytes, tabs and other
-- control characters included. portable_uuidv7() gets its own zero-argument signature.
--
-- The step lookup (get_task_checkpoint_state) planned a dynamic query inside an exception block (a
-- subtransaction) on every call. Each queue now has a lookup function with static SQL, planned once
-- per session, and the public function only dispatches to it.

-- Time-ordered ids for a given instant; the hot-path functions pass the clock reading they already hold.
drop function if exists absurd.portable_uuidv7(timestamptz);
create or replace function absurd.portable_uuidv7(p_at timestamptz) returns uuid
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

-- The protocol's zero-argument form: a UUIDv7 for absurd.current_time() (so a faked clock shows in it).
create or replace function absurd.portable_uuidv7() returns uuid
language sql volatile
as $$
  select absurd.portable_uuidv7(absurd.current_time())
$$;

-- Queue names become part of table identifiers, so they are checked before any table is created:
-- 2-byte prefix + 57 bytes + 4-byte index suffix fits PostgreSQL's 63-byte identifier limit. Every
-- other character is allowed (identifiers are always quoted); text cannot hold NUL anyway.
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
  return p_queue_name;
end
$$;

-- The name PostgreSQL gives an unnamed constraint of p_table (<table>[_<column>]_<label>, both
-- parts shortened alike until the whole fits 63 bytes, never splitting a character), with a
-- number appended to the label while the name is taken. Used to rename the constraints of queues
-- created before this migration to what a fresh create_queue gets.
create or replace function absurd.conventional_constraint_name(p_table text, p_column text, p_label text) returns text
language plpgsql stable
as $$
declare
  v_pass integer := 0;
  v_label text;
  v_table_bytes integer;
  v_column_bytes integer;
  v_available integer;
  v_name text;
begin
  loop
    v_label := p_label || case when v_pass > 0 then v_pass::text else '' end;
    v_table_bytes := octet_length(p_table);
    v_column_bytes := coalesce(octet_length(p_column), 0);
    v_available := 63 - octet_length(v_label) - 1 - case when p_column is null then 0 else 1 end;
    while v_table_bytes + v_column_bytes > v_available loop
      if v_table_bytes > v_column_bytes then
        v_table_bytes := v_table_bytes - 1;
      else
        v_column_bytes := v_column_bytes - 1;
      end if;
    end loop;
    v_name := absurd.clip_to_bytes(p_table, v_table_bytes)
      || case when p_column is null then '' else '_' || absurd.clip_to_bytes(p_column, v_column_bytes) end
      || '_' || v_label;
    if not exists (select 1 from pg_catalog.pg_class c where c.relnamespace = 'absurd'::regnamespace and c.relname = v_name) then
      return v_name;
    end if;
    v_pass := v_pass + 1;
  end loop;
end
$$;

-- The longest prefix of p_text that fits p_bytes UTF-8 bytes without splitting a character.
create or replace function absurd.clip_to_bytes(p_text text, p_bytes integer) returns text
language sql immutable
as $$
  select coalesce(
    (select left(p_text, n) from generate_series(char_length(p_text), 0, -1) n
     where octet_length(left(p_text, n)) <= p_bytes limit 1),
    '')
$$;

-- Creates a queue's five tables and their indexes; safe to repeat. Timestamps that record when a row
-- was made default to absurd.current_time(); keys carry the names PostgreSQL chooses (<table>_pkey,
-- <table>_idempotency_key_key). The partial index r_<q>_sai holds only claimable-state runs in claim
-- order, so a claim reads a few index entries however many runs are pending; r_<q>_cei and t_<q>_cdi
-- make the lease and cancellation sweeps index probes.
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
      task_id uuid not null primary key,
      task_name text not null,
      params jsonb not null,
      headers jsonb,
      retry_strategy jsonb,
      max_attempts integer,
      cancellation jsonb,
      enqueue_at timestamptz not null default absurd.current_time(),
      first_started_at timestamptz,
      state text not null check (state in ('pending', 'running', 'sleeping', 'completed', 'failed', 'cancelled')),
      attempts integer not null default 0,
      last_attempt_run uuid,
      completed_payload jsonb,
      cancelled_at timestamptz,
      idempotency_key text unique,
      cancel_deadline timestamptz
    )$q$, v_t);
  execute format('create index if not exists %I on absurd.%I (cancel_deadline) where cancel_deadline is not null',
    v_t || '_cdi', v_t);

  execute format($q$
    create table if not exists absurd.%1$I (
      run_id uuid not null primary key,
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
      created_at timestamptz not null default absurd.current_time()
    )$q$, v_r);
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
      updated_at timestamptz not null default absurd.current_time(),
      primary key (task_id, checkpoint_name)
    )$q$, v_c);

  execute format($q$
    create table if not exists absurd.%1$I (
      event_name text not null primary key,
      payload jsonb,
      emitted_at timestamptz not null default absurd.current_time()
    )$q$, v_e);
  execute format('create index if not exists %I on absurd.%I (emitted_at)', v_e || '_eai', v_e);

  execute format($q$
    create table if not exists absurd.%1$I (
      run_id uuid not null,
      step_name text not null,
      task_id uuid not null,
      event_name text not null,
      timeout_at timestamptz,
      created_at timestamptz not null default absurd.current_time(),
      primary key (run_id, step_name)
    )$q$, v_w);
  execute format('create index if not exists %I on absurd.%I (event_name)', v_w || '_eni', v_w);
  execute format('create index if not exists %I on absurd.%I (task_id)', v_w || '_ti', v_w);
end
$$;

-- Brings the tables of a queue created before this migration to the shape ensure_queue_tables now
-- gives: timestamp defaults, <table>_pkey keys, and the idempotency index turned into a unique
-- constraint (the index is reused, not rebuilt). Harmless on tables that already have that shape.
create or replace function absurd.upgrade_queue_tables(p_queue_name text) returns void
language plpgsql
as $$
declare
  v_column record;
  v_key record;
  v_index regclass;
begin
  for v_column in
    select wanted.prefix || p_queue_name as relname, wanted.attname
    from (values ('t_', 'enqueue_at'), ('r_', 'created_at'), ('c_', 'updated_at'), ('e_', 'emitted_at'),
                 ('w_', 'created_at')) as wanted (prefix, attname)
    join pg_catalog.pg_class c on c.relname = wanted.prefix || p_queue_name and c.relnamespace = 'absurd'::regnamespace
    join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attname = wanted.attname
    where not a.atthasdef
  loop
    execute format('alter table absurd.%I alter column %I set default absurd.current_time()',
                   v_column.relname, v_column.attname);
  end loop;
  for v_key in
    select c.relname, k.conname
    from pg_catalog.pg_constraint k
    join pg_catalog.pg_class c on c.oid = k.conrelid
    where c.relnamespace = 'absurd'::regnamespace and k.contype = 'p'
      and c.relname in ('t_' || p_queue_name, 'r_' || p_queue_name, 'c_' || p_queue_name, 'e_' || p_queue_name,
                        'w_' || p_queue_name)
      and k.conname = c.relname || '_pk'
  loop
    execute format('alter table absurd.%I rename constraint %I to %I', v_key.relname, v_key.conname,
                   absurd.conventional_constraint_name(v_key.relname, null, 'pkey'));
  end loop;
  v_index := to_regclass(format('absurd.%I', 't_' || p_queue_name || '_iki'));
  if v_index is not null
     and not exists (select 1 from pg_catalog.pg_constraint k where k.conindid = v_index) then
    execute format('alter table absurd.%I add constraint %I unique using index %I', 't_' || p_queue_name,
                   absurd.conventional_constraint_name('t_' || p_queue_name, 'idempotency_key', 'key'),
                   't_' || p_queue_name || '_iki');
  end if;
end
$$;

-- p_body as a dollar-quoted string literal whose tag occurs nowhere in it (queue names may hold '$').
create or replace function absurd.dollar_quote(p_body text) returns text
language sql immutable
as $$
  select tag || p_body || tag
  from (select '$body' || n || '$' as tag from generate_series(1, 10000) n) tags
  where strpos(p_body, tag) = 0
  limit 1
$$;

-- The step lookup's statement for one queue: the checkpoint of one step, if committed (or pending
-- when asked). It names p_task_id, p_step_name and p_include_pending, which both of its users (the
-- queue's lookup function and the branch of get_task_checkpoint_state) have as arguments.
create or replace function absurd.checkpoint_lookup_statement(p_queue_name text) returns text
language sql immutable
as $$
  select format($q$return query
        select c.checkpoint_name, c.state, c.status, c.owner_run_id, c.updated_at
        from absurd.%I c
        where c.task_id = p_task_id and c.checkpoint_name = p_step_name
          and (c.status = 'committed' or coalesce(p_include_pending, false));$q$, 'c_' || p_queue_name)
$$;

-- Writes the queue's step lookup function, for callers that reach the queue by dynamic dispatch.
-- Static SQL in PL/pgSQL, so the statement is planned once per session and then reused.
create or replace function absurd.ensure_queue_lookup_function(p_queue_name text) returns void
language plpgsql
as $$
begin
  execute format($tmpl$
    create or replace function absurd.%1$I(p_task_id uuid, p_step_name text, p_include_pending boolean)
    returns table (checkpoint_name text, state jsonb, status text, owner_run_id uuid, updated_at timestamptz)
    language plpgsql
    as %2$s
  $tmpl$, absurd.queue_function_name(p_queue_name, 'lookup'),
    absurd.dollar_quote(format(E'\n    #variable_conflict use_column\n    begin\n      %s\n    end\n    ',
                               absurd.checkpoint_lookup_statement(p_queue_name))));
end
$$;

-- The step lookup and the checkpoint write are the two calls of every step, and a spawn, a claim and
-- a completion frame every task, so these five public functions are generated too: a branch per registered queue (up to 100, by name) runs that queue's statement
-- as static SQL, planned once per session, instead of building and planning a dynamic statement on
-- every call. A queue without a branch (created in a transaction not yet committed, or beyond the
-- first 100) takes the dynamic path. A branch only chooses the queue: the lookup statement comes from
-- checkpoint_lookup_statement, the others are the queue's own functions, and every check is in the
-- text around the branches. A branch of a dropped queue stays until the next regeneration, so each
-- first checks (a catalog cache probe) that its queue's function exists, and otherwise reports the
-- unknown queue as the dynamic path would.
create or replace function absurd.queue_dispatch_branch(p_operation text, p_queue_name text) returns text
language sql immutable
as $$
  select case p_operation
    when 'lookup' then absurd.checkpoint_lookup_statement(p_queue_name)
    when 'checkpoint' then format(
      'select * into v_run_state, v_task_state from absurd.%I(p_task_id, p_step_name, p_state, p_owner_run, p_extend_claim_by, v_now);',
      absurd.queue_function_name(p_queue_name, 'checkpoint'))
    when 'spawn' then format('return query select * from absurd.%I(p_task_name, p_params, v_options, v_now);',
      absurd.queue_function_name(p_queue_name, 'spawn'))
    when 'claim' then format('return query select * from absurd.%I(v_now, v_worker, v_timeout, v_qty);',
      absurd.queue_function_name(p_queue_name, 'claim'))
    when 'complete' then format('v_state := absurd.%I(p_run_id, p_result, v_now);',
      absurd.queue_function_name(p_queue_name, 'complete'))
  end
$$;

-- The if/elsif chain over the registered queues that ends in p_dynamic, or just p_dynamic when none is.
create or replace function absurd.queue_dispatch(p_operation text, p_dynamic text) returns text
language sql stable
as $$
  select coalesce(
    (select string_agg(format('if p_queue_name = %L then', q.queue_name) || E'\n        '
                       || format('if to_regproc(%L) is null then perform absurd.raise_missing_queue_function(p_queue_name, %L); end if;',
                                 'absurd.' || quote_ident(absurd.queue_function_name(q.queue_name, p_operation)), p_operation)
                       || E'\n        ' || absurd.queue_dispatch_branch(p_operation, q.queue_name),
                       E'\n      els' order by q.queue_name)
            || E'\n      else\n        ' || p_dynamic || E'\n      end if;'
     from (select queue_name from absurd.queues order by queue_name limit 100) q),
    p_dynamic)
$$;

-- Writes get_task_checkpoint_state, set_task_checkpoint_state, spawn_task, claim_task and complete_run
-- with a static branch for every registered queue (see queue_dispatch). ensure_queue_functions runs it, so create_queue does too.
create or replace function absurd.ensure_queue_dispatch() returns void
language plpgsql
as $$
begin
  perform pg_advisory_xact_lock(hashtext('absurd.queue_dispatch'));
  -- The SDK's lookup for one step; it does not filter by run or attempt.
  execute format($tmpl$
    create or replace function absurd.get_task_checkpoint_state(p_queue_name text, p_task_id uuid, p_step_name text,
                                                                p_include_pending boolean default false)
    returns table (checkpoint_name text, state jsonb, status text, owner_run_id uuid, updated_at timestamptz)
    language plpgsql
    as %s
  $tmpl$, absurd.dollar_quote(format($body$
    #variable_conflict use_column
    begin
      %1$s
    end
    $body$, absurd.queue_dispatch('lookup',
      $dyn$return query execute 'select * from ' || absurd.queue_function(p_queue_name, 'lookup') || '($1, $2, $3)'
          using p_task_id, p_step_name, p_include_pending;$dyn$))));

  -- Saves a step result; a stale attempt never overwrites what a newer attempt wrote, a failed run
  -- reports AB002 and a cancelled task AB001 (both decided by the queue's function before it writes).
  execute format($tmpl$
    create or replace function absurd.set_task_checkpoint_state(
      p_queue_name text, p_task_id uuid, p_step_name text, p_state jsonb, p_owner_run uuid,
      p_extend_claim_by integer default null
    ) returns void
    language plpgsql
    as %s
  $tmpl$, absurd.dollar_quote(format($body$
    declare
      v_run_state text;
      v_task_state text;
      v_now timestamptz := absurd.current_time();
    begin
      if p_step_name is null or btrim(p_step_name) = '' then
        raise exception 'checkpoint step_name must be a non-blank string';
      end if;
      %1$s
      if v_run_state is null then
        raise exception 'run %% not found in queue %%', p_owner_run, quote_literal(p_queue_name);
      elsif v_task_state = 'cancelled' then
        raise exception 'task %% has been cancelled', p_task_id using errcode = 'AB001';
      elsif v_run_state = 'failed' then
        raise exception 'run %% has already failed (its claim may have expired)', p_owner_run using errcode = 'AB002';
      end if;
    end
    $body$, absurd.queue_dispatch('checkpoint',
      $dyn$execute 'select * from ' || absurd.queue_function(p_queue_name, 'checkpoint') || '($1, $2, $3, $4, $5, $6)'
          into v_run_state, v_task_state using p_task_id, p_step_name, p_state, p_owner_run, p_extend_claim_by, v_now;$dyn$))));

  -- Enqueues a task with its first run, after taking the queue's definition lock in shared mode
  -- (0013). Options are validated here so a bad value fails the spawn, not a later claim; the queue's
  -- spawn function makes idempotency keys race-safe.
  execute format($tmpl$
    create or replace function absurd.spawn_task(p_queue_name text, p_task_name text, p_params jsonb,
                                                 p_options jsonb default '{}')
    returns table (task_id uuid, run_id uuid, attempt integer, created boolean)
    language plpgsql
    as %s
  $tmpl$, absurd.dollar_quote(format($body$
    #variable_conflict use_column
    declare
      v_options jsonb := coalesce(p_options, '{}'::jsonb);
      v_now timestamptz;
    begin
      if p_task_name is null or btrim(p_task_name) = '' then
        raise exception 'task_name must be a non-blank string';
      end if;
      perform absurd.validate_spawn_options(v_options);
      perform absurd.share_queue_definition(p_queue_name);
      v_now := absurd.current_time();
      %1$s
      if not found then
        raise exception 'could not spawn task with idempotency key %% in queue %%: the key kept changing hands',
          v_options ->> 'idempotency_key', quote_literal(p_queue_name)
          using errcode = 'serialization_failure', hint = 'Retry the spawn.';
      end if;
    end
    $body$, absurd.queue_dispatch('spawn',
      $dyn$return query execute 'select * from ' || absurd.queue_function(p_queue_name, 'spawn') || '($1, $2, $3, $4)'
          using p_task_name, p_params, v_options, v_now;$dyn$))));

  -- Hands out up to qty due runs to a worker, after taking the queue's definition lock in shared
  -- mode (0013). NULL timeout means 30, a negative one 0 = no lease; a blank worker id means
  -- "worker"; qty below 1 means 1.
  execute format($tmpl$
    create or replace function absurd.claim_task(p_queue_name text, p_worker_id text, p_claim_timeout integer default 30,
                                                 p_qty integer default 1)
    returns table (
      run_id uuid, task_id uuid, attempt integer, task_name text, params jsonb, retry_strategy jsonb,
      max_attempts integer, headers jsonb, wake_event text, event_payload jsonb
    )
    language plpgsql
    as %s
  $tmpl$, absurd.dollar_quote(format($body$
    #variable_conflict use_column
    declare
      v_now timestamptz;
      v_worker text := coalesce(nullif(btrim(p_worker_id), ''), 'worker');
      v_timeout integer := greatest(coalesce(p_claim_timeout, 30), 0);
      v_qty integer := greatest(coalesce(p_qty, 1), 1);
    begin
      perform absurd.share_queue_definition(p_queue_name);
      v_now := absurd.current_time();
      %1$s
    end
    $body$, absurd.queue_dispatch('claim',
      $dyn$return query execute 'select * from ' || absurd.queue_function(p_queue_name, 'claim') || '($1, $2, $3, $4)'
          using v_now, v_worker, v_timeout, v_qty;$dyn$))));

  -- Finishes a running run and its task. No lease check: an expired lease that no claim has swept
  -- yet can still complete.
  execute format($tmpl$
    create or replace function absurd.complete_run(p_queue_name text, p_run_id uuid, p_result jsonb default null)
    returns void
    language plpgsql
    as %s
  $tmpl$, absurd.dollar_quote(format($body$
    declare
      v_state text;
      v_now timestamptz := absurd.current_time();
    begin
      %1$s
      if v_state = 'running' then
        return;
      elsif v_state is null then
        raise exception 'run %% not found in queue %%', p_run_id, quote_literal(p_queue_name);
      elsif v_state = 'cancelled' then
        raise exception 'task of run %% has been cancelled', p_run_id using errcode = 'AB001';
      elsif v_state = 'failed' then
        raise exception 'run %% has already failed (its claim may have expired)', p_run_id using errcode = 'AB002';
      else
        raise exception 'run %% is %%, not currently running, so it cannot complete', p_run_id, v_state;
      end if;
    end
    $body$, absurd.queue_dispatch('complete',
      $dyn$execute 'select ' || absurd.queue_function(p_queue_name, 'complete') || '($1, $2, $3)'
          into v_state using p_run_id, p_result, v_now;$dyn$))));
end
$$;

-- Per-queue functions. Each generated function body has a generator of its own, so a later migration
-- can replace one template and regenerate it for every queue (select absurd.ensure_queue_functions(q)).

-- The checkpoint visibility rule, stated once: a checkpoint written by attempt p_owner_attempt (null
-- when ownerless or its owner run is gone) is what attempt p_attempt may replay, and what it may
-- overwrite. So attempt N sees attempts 1..N, and a stale attempt never replaces a newer one's step.
-- Plain SQL, so the planner inlines it into every statement that uses it.
create or replace function absurd.checkpoint_visible_to(p_owner_attempt integer, p_attempt integer) returns boolean
language sql immutable
as $$
  select coalesce(p_owner_attempt, 0) <= p_attempt
$$;

-- Writes the queue's spawn function: insert the task and its first run; with an idempotency key the
-- unique constraint decides races and a loser reads the winner (a fresh statement, so it sees a
-- spawn that committed while it waited).
create or replace function absurd.ensure_queue_spawn_function(p_queue_name text) returns void
language plpgsql
as $$
declare
  v_t text := 't_' || p_queue_name;
  v_r text := 'r_' || p_queue_name;
begin
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
end
$$;

-- Writes the queue's claim function: two index probes decide whether a sweep is needed; then one statement locks up to qty
-- due runs in claim order (skipping rows other claimers hold) and updates runs, tasks and
-- expired waits. The plan is pinned: a generic plan (custom plans would be re-planned on every
-- call because the LIMIT is a parameter) that, whatever LIMIT or table sizes it guesses, walks
-- the indexes with nested loops instead of scanning and hashing whole tables, and never pays for
-- JIT compilation (the guessed LIMIT inflates the cost estimate past jit_above_cost).
create or replace function absurd.ensure_queue_claim_function(p_queue_name text) returns void
language plpgsql
as $$
declare
  v_t text := 't_' || p_queue_name;
  v_r text := 'r_' || p_queue_name;
  v_w text := 'w_' || p_queue_name;
begin
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
end
$$;

-- Writes the queue's checkpoint states function: what a starting run may replay (owner attempt <= its own, or ownerless).
create or replace function absurd.ensure_queue_checkpoint_states_function(p_queue_name text) returns void
language plpgsql
as $$
declare
  v_r text := 'r_' || p_queue_name;
  v_c text := 'c_' || p_queue_name;
begin
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
          and absurd.checkpoint_visible_to(coalesce(c.owner_attempt, (select o.attempt from absurd.%3$I o where o.run_id = c.owner_run_id)), v_attempt)
        order by c.updated_at, c.checkpoint_name;
    end
    $body$
  $tmpl$, absurd.queue_function_name(p_queue_name, 'checkpoint_states'), v_c, v_r, p_queue_name);
end
$$;

-- Writes the queue's complete function: lock the run, then finish run and task and drop the run's waits in one statement.
-- Returns the state the run had, so the caller can report why nothing happened.
create or replace function absurd.ensure_queue_complete_function(p_queue_name text) returns void
language plpgsql
as $$
declare
  v_t text := 't_' || p_queue_name;
  v_r text := 'r_' || p_queue_name;
  v_w text := 'w_' || p_queue_name;
begin
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
end
$$;

-- Writes the queue's schedule function: put a running run to sleep until p_wake_at; returns the state the run had.
create or replace function absurd.ensure_queue_schedule_function(p_queue_name text) returns void
language plpgsql
as $$
declare
  v_t text := 't_' || p_queue_name;
  v_r text := 'r_' || p_queue_name;
begin
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
end
$$;

-- Writes the queue's extend function: heartbeat; moves a live lease to now + extend_by and reports what it found.
create or replace function absurd.ensure_queue_extend_function(p_queue_name text) returns void
language plpgsql
as $$
declare
  v_t text := 't_' || p_queue_name;
  v_r text := 'r_' || p_queue_name;
begin
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

-- Writes the queue's checkpoint function, as in 0008 (the run is locked before its state is read);
-- the existing checkpoint is overwritten only by an attempt that may see it. The run row is locked with the strength an update takes, which the
-- sweep's FOR UPDATE, fail_run and cancel_task all conflict with; two writers of one run queue on it
-- as they did on the lease update before. Under READ COMMITTED the locking read returns the row as
-- the lock holder left it, and each later statement sees everything committed before the lock.
create or replace function absurd.ensure_queue_checkpoint_function(p_queue_name text) returns void
language plpgsql
as $$
begin
  execute format($tmpl$
    create or replace function absurd.%1$I(p_task_id uuid, p_step_name text, p_state jsonb, p_owner_run uuid,
                                          p_extend_by integer, p_now timestamptz, out run_state text, out task_state text)
    language plpgsql
    set plan_cache_mode = force_generic_plan
    as $body$
    #variable_conflict use_column
    declare
      v_attempt integer;
    begin
      select r.attempt, r.state into v_attempt, run_state
      from absurd.%3$I r where r.run_id = p_owner_run
      for no key update;
      if not found then
        return;
      end if;
      select t.state into task_state from absurd.%2$I t where t.task_id = p_task_id;
      if run_state = 'failed' or task_state = 'cancelled' then
        return;
      end if;
      with extended as (
        update absurd.%3$I r set claim_expires_at = p_now + make_interval(secs => p_extend_by)
        where p_extend_by > 0 and r.run_id = p_owner_run and r.claim_expires_at is not null
          and r.state not in ('pending', 'sleeping', 'completed', 'failed', 'cancelled')
      )
      insert into absurd.%4$I as c (task_id, checkpoint_name, state, status, owner_run_id, owner_attempt, updated_at)
      values (p_task_id, p_step_name, p_state, 'committed', p_owner_run, v_attempt, p_now)
      on conflict (task_id, checkpoint_name) do update
      set state = excluded.state, status = 'committed', owner_run_id = excluded.owner_run_id,
          owner_attempt = excluded.owner_attempt, updated_at = excluded.updated_at
      where absurd.checkpoint_visible_to(coalesce(c.owner_attempt, (select o.attempt from absurd.%3$I o where o.run_id = c.owner_run_id)),
                                         excluded.owner_attempt);
    end
    $body$
  $tmpl$, absurd.queue_function_name(p_queue_name, 'checkpoint'), 't_' || p_queue_name, 'r_' || p_queue_name,
     'c_' || p_queue_name);
end
$$;

-- Writes the queue's replay function: the checkpoints a run may replay (committed, written by an
-- attempt up to its own or by no attempt), oldest first, names and states only. A run that does not
-- exist or belongs to another task yields no rows: the join on the run is the only check, which is
-- all a client that claimed the run needs. SQL, stable and without SET clauses, so it is inlined.
create or replace function absurd.ensure_queue_replay_function(p_queue_name text) returns void
language plpgsql
as $$
begin
  execute format($tmpl$
    create or replace function absurd.%1$I(p_task_id uuid, p_run_id uuid)
    returns table (checkpoint_name text, state jsonb)
    language sql
    stable
    as $body$
      select c.checkpoint_name, c.state
      from absurd.%3$I r
      join absurd.%2$I c on c.task_id = r.task_id
      where r.run_id = p_run_id and r.task_id = p_task_id and c.status = 'committed'
        and absurd.checkpoint_visible_to(coalesce(c.owner_attempt, (select o.attempt from absurd.%3$I o where o.run_id = c.owner_run_id)),
                                         r.attempt)
      order by c.updated_at, c.checkpoint_name
    $body$
  $tmpl$, absurd.queue_function_name(p_queue_name, 'replay'), 'c_' || p_queue_name, 'r_' || p_queue_name);
end
$$;

-- Every generated per-queue function, each from its own generator above (or of an earlier migration).
create or replace function absurd.ensure_queue_own_functions(p_queue_name text) returns void
language plpgsql
as $$
begin
  perform absurd.ensure_queue_spawn_function(p_queue_name);
  perform absurd.ensure_queue_claim_function(p_queue_name);
  perform absurd.ensure_queue_checkpoint_function(p_queue_name);
  perform absurd.ensure_queue_checkpoint_states_function(p_queue_name);
  perform absurd.ensure_queue_complete_function(p_queue_name);
  perform absurd.ensure_queue_schedule_function(p_queue_name);
  perform absurd.ensure_queue_extend_function(p_queue_name);
  perform absurd.ensure_queue_replay_function(p_queue_name);
  perform absurd.ensure_queue_lookup_function(p_queue_name);
end
$$;

-- The generator of 0001 wrote six of these functions in one body; each now has its own above.
drop function if exists absurd.ensure_queue_base_functions(text);

-- Every generated per-queue function, then the public functions that dispatch to them; safe to repeat. create_queue calls it, and a migration that replaces one generator
-- re-runs it for every registered queue.
create or replace function absurd.ensure_queue_functions(p_queue_name text) returns void
language plpgsql
as $$
begin
  perform absurd.ensure_queue_own_functions(p_queue_name);
  perform absurd.ensure_queue_dispatch();
end
$$;

select absurd.upgrade_queue_tables(q.queue_name), absurd.ensure_queue_functions(q.queue_name)
from absurd.queues q order by q.queue_name;
select absurd.ensure_queue_dispatch();
