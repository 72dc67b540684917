-- Creating a week's partition gives way to the hot path instead of risking a deadlock with it.
--
-- A new child takes an ACCESS EXCLUSIVE lock on its parent until the provisioning transaction ends, and
-- absurd.ensure_partitions creates the t_, r_, c_ and w_ children one after the other. A complete_run or
-- fail_run that had updated the run (r_) and then waited for the task (t_) held what the next creation
-- needed, and one of the two failed with 40P01. Each creation now waits at most 100 ms for its parent's
-- lock, well below deadlock_timeout, in a subtransaction of its own: when it cannot get the lock in time,
-- its locks are released at once, the week's rows keep going to the DEFAULT child, a warning says so, and
-- the next ensure_partitions (pg_cron's hourly job, or any call) creates it. Nothing on the hot path changes.

-- As in 0015, but the creation waits at most 100 ms for the parent and leaves a busy week for later.
create or replace function absurd.create_partition_if_missing(
  p_queue_name text, p_parent text, p_child text, p_bound text, p_locked boolean
) returns boolean
language plpgsql
as $$
declare
  v_existing regclass := to_regclass(format('absurd.%I', p_child));
  v_lock_timeout text := current_setting('lock_timeout');
begin
  if v_existing is not null then
    if not exists (
      select 1 from pg_catalog.pg_inherits i join pg_catalog.pg_class c on c.oid = i.inhrelid
      where i.inhrelid = v_existing and i.inhparent = to_regclass(format('absurd.%I', p_parent))
        and lower(pg_catalog.pg_get_expr(c.relpartbound, c.oid)) = lower(p_bound)) then
      raise warning 'table absurd.% exists but is not the partition of absurd.% %; rows of that week go to the default partition',
        quote_ident(p_child), quote_ident(p_parent), p_bound
        using hint = 'Detach and drop the old table once it is empty (absurd.list_detach_candidates), then run absurd.ensure_partitions again.';
    end if;
    return p_locked;
  end if;
  if not p_locked then
    perform absurd.lock_queue_definition(p_queue_name);
    if to_regclass(format('absurd.%I', p_child)) is not null then
      return true;
    end if;
  end if;
  begin
    perform set_config('lock_timeout', '100ms', true);
    execute format('create table absurd.%I partition of absurd.%I %s', p_child, p_parent, p_bound);
    perform set_config('lock_timeout', v_lock_timeout, true);
  exception when lock_not_available then
    -- The subtransaction's rollback has released what it locked and restored lock_timeout.
    raise warning 'absurd.% was busy, so its partition absurd.% was not created now; rows of that week go to the default partition until absurd.ensure_partitions runs again',
      quote_ident(p_parent), quote_ident(p_child)
      using hint = 'Nothing to do: the next absurd.ensure_partitions (the pg_cron job, or a call) creates it.';
  end;
  return true;
end
$$;
