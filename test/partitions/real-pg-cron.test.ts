// The maintenance jobs under the real pg_cron extension (Debian's postgresql-15-cron), not a cron schema
// of its shape: a Postgres cluster of its own with pg_cron preloaded, the schema migrated into it,
// enable_cron on a partitioned queue, pg_cron's scheduler running each job at the next minute, the
// detach pipeline retiring an old week (detached concurrently), and disable_cron and drop_queue
// unscheduling jobs through pg_cron's own functions. Runs in the Postgres
// pass, as root on a machine with pg_createcluster and pg_cron (CI installs both); otherwise it says why not.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { migrate } from '../../src/schema/migrate.ts';
import { usingPostgres } from '../support/test-database.ts';

const version = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql').sort().at(-1) : undefined;
const pgCronLibrary = version && `/usr/lib/postgresql/${version}/lib/pg_cron.so`;
const skipReason = !usingPostgres
  ? 'runs in the Postgres pass (set TEST_DATABASE_URL)'
  : process.getuid?.() !== 0
    ? 'creates a Postgres cluster of its own, which needs root (pg_createcluster)'
    : !version || spawnSync('pg_createcluster', ['--help']).error
      ? 'needs pg_createcluster (Debian postgresql-common)'
      : !existsSync(pgCronLibrary!)
        ? `needs pg_cron (apt-get install postgresql-${version}-cron)`
        : false;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('maintenance jobs under the real pg_cron', { skip: skipReason }, () => {
  const cluster = `absurd_cron_${process.pid}`;
  let pool: pg.Pool;
  let created = false;

  before(async () => {
    const port = await freePort();
    execFileSync('pg_createcluster', [version!, cluster, '-p', String(port), '--', '--auth=trust'], { stdio: 'ignore' });
    created = true;
    writeFileSync(
      `/etc/postgresql/${version}/${cluster}/conf.d/pg-cron.conf`,
      "shared_preload_libraries = 'pg_cron'\ncron.database_name = 'postgres'\ncron.use_background_workers = on\n",
    );
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version!, cluster, 'start'], { stdio: 'ignore' });
    pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`, max: 2 });
    await pool.query('create extension pg_cron');
    await migrate(pool);
  });

  after(async () => {
    await pool?.end();
    if (created) spawnSync('pg_dropcluster', ['--stop', version!, cluster], { stdio: 'ignore' });
  });

  const jobs = async () =>
    (await pool.query<{ jobid: string; jobname: string; schedule: string; command: string }>(
      'select jobid::text, jobname, schedule, command from cron.job order by jobname',
    )).rows;

  test('enable_cron schedules three jobs that pg_cron runs successfully; disable_cron and drop_queue unschedule them', async () => {
    await pool.query(`select absurd.create_queue('cron_partitioned', 'partitioned')`);
    await pool.query(`select absurd.create_queue('cron_plain')`);
    const scheduled = (
      await pool.query<{ job_name: string; job_id: string }>(
        `select job_name, job_id::text from absurd.enable_cron('cron_partitioned', '* * * * *', '* * * * *', '* * * * *')`,
      )
    ).rows;
    assert.equal(scheduled.length, 3);
    assert.deepEqual(
      (await jobs()).map((job) => [job.jobid, job.jobname, job.schedule]),
      scheduled.map((job) => [job.job_id, job.job_name, '* * * * *']).sort((a, b) => a[1]!.localeCompare(b[1]!)),
      'the ids enable_cron returned are the jobs pg_cron holds',
    );
    const global = (await pool.query(`select job_name from absurd.enable_cron()`)).rows;
    assert.equal(global.length, 3, 'the all-queues scope has jobs of its own');

    // pg_cron's scheduler starts each job at the next minute boundary, in a session of its own.
    const ids = scheduled.map((job) => job.job_id);
    const deadline = Date.now() + 75_000;
    let runs: { jobid: string; status: string; return_message: string }[] = [];
    while (Date.now() < deadline) {
      runs = (
        await pool.query(
          `select jobid::text, status, return_message from cron.job_run_details where jobid::text = any($1) and status in ('succeeded', 'failed')`,
          [ids],
        )
      ).rows;
      if (new Set(runs.map((run) => run.jobid)).size === ids.length) break;
      await delay(1_000);
    }
    assert.deepEqual(new Set(runs.map((run) => run.jobid)), new Set(ids), `every job ran: ${JSON.stringify(runs)}`);
    assert.deepEqual(runs.filter((run) => run.status !== 'succeeded'), [], 'and each succeeded');

    // Enabling again replaces the queue's jobs instead of adding to them.
    await pool.query(`select * from absurd.enable_cron('cron_partitioned', '5 * * * *')`);
    assert.equal((await jobs()).length, 6);
    const removed = (await pool.query(`select job_name from absurd.disable_cron('cron_partitioned')`)).rows;
    assert.equal(removed.length, 3);
    assert.deepEqual((await pool.query(`select job_name from absurd.disable_cron('cron_partitioned')`)).rows, []);

    await pool.query(`select * from absurd.enable_cron('cron_plain')`);
    await pool.query(`select absurd.drop_queue('cron_plain')`);
    assert.deepEqual(
      (await jobs()).map((job) => job.jobname).sort(),
      global.map((job) => job.job_name as string).sort(),
      "drop_queue took the dropped queue's jobs and left the all-queues ones",
    );
    assert.equal((await pool.query(`select job_name from absurd.disable_cron()`)).rows.length, 3);
    assert.deepEqual(await jobs(), []);
  });

  test('the detach pipeline planned by its job retires the oldest week under pg_cron, detaching concurrently', async () => {
    // Sessions pg_cron opens for its jobs read the clock the way every session of the database does.
    const setClock = async (iso: string) => {
      await pool.query(`alter database postgres set absurd.fake_now = '${iso}'`);
      await pool.end();
      pool = new pg.Pool({ connectionString: pool.options.connectionString, max: 2 });
    };
    await setClock('2024-04-01T12:00:00.000Z');
    await pool.query(`select absurd.create_queue('cron_retire', 'partitioned')`);
    // Without a DEFAULT child a week is detached CONCURRENTLY, which cannot run inside a transaction block.
    await pool.query(`select absurd.set_queue_policy('cron_retire', $1)`, [
      JSON.stringify({ detach_mode: 'empty', detach_min_age: '0 days', default_partition: 'disabled' }),
    ]);
    await setClock('2024-06-30T12:00:00.000Z');
    const oldest = (
      await pool.query<{ partition_table: string }>(
        `select partition_table from absurd.list_detach_candidates('cron_retire') where parent_table = 't_cron_retire' order by partition_table limit 1`,
      )
    ).rows[0]?.partition_table;
    assert.ok(oldest, 'an empty old week is a candidate');
    const exists = async () => (await pool.query(`select to_regclass(format('absurd.%I', $1::text)) is not null as present`, [oldest])).rows[0].present;
    assert.equal(await exists(), true);

    await pool.query(`select * from absurd.enable_cron('cron_retire', '0 0 1 1 *', '0 0 1 1 *', '* * * * *')`);
    // Minute 1 plans the detach and drop jobs, minute 2 detaches, the drop job drops the detached week.
    const deadline = Date.now() + 200_000;
    while (Date.now() < deadline && (await exists())) await delay(2_000);
    assert.equal(await exists(), false, `${oldest} was detached and dropped by the jobs`);
    // The drop job unschedules its pipeline from inside its own run; pg_cron records the runs it was in the
    // middle of as "job canceled" (the drop has committed: the week is gone). Nothing else failed.
    const failures = (
      await pool.query<{ command: string; return_message: string }>(
        `select command, return_message from cron.job_run_details where status = 'failed'`,
      )
    ).rows;
    assert.deepEqual(
      failures.filter((run) => run.return_message !== 'job canceled' || !/detach partition|drop_detached_partition/.test(run.command)),
      [],
      'no job failed but the runs the pipeline unscheduled',
    );
    const runJobs = (await jobs()).filter((job) => /^absurd_(detach|drop)_run_/.test(job.jobname) && job.command.includes(oldest!));
    assert.deepEqual(runJobs, [], "the week's run jobs unscheduled themselves");
    const detachRuns = (
      await pool.query(`select command, status from cron.job_run_details where command like '% detach partition % concurrently'`)
    ).rows;
    assert.ok(detachRuns.some((run) => run.status === 'succeeded' && run.command.includes(oldest!)), JSON.stringify(detachRuns));
    await pool.query(`select * from absurd.disable_cron('cron_retire')`);
    await pool.query(`alter database postgres reset absurd.fake_now`);
  });
});
