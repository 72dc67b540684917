// One on-disk PGlite directory, many processes opening it at the same moment, many times: exactly one opens it
// and every other gets DatabaseLockedError, with no lock file, with the lock of a SIGKILLed owner, and with an
// old empty lock file; every task whose spawn() was confirmed is there when the directory is opened again. And
// what dead processes leave behind (a takeover marker, a lock with a reused pid, a fresh empty lock) never blocks.
// The race is about the pglite: directory itself, not the server: with TEST_DATABASE_URL set it is left to the
// embedded run (CI runs both), so the two minutes it takes on two cores are spent once.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { Absurd } from '../../src/client/absurd.ts';
import { parsePGliteUrl } from '../../src/db/open-database.ts';
import { createSharedDatabase, type SharedDatabase } from '../support/crash-databases.ts';
import { uniqueQueueName, usingPostgres } from '../support/test-database.ts';
import { startWorkerProcess, type WorkerProcess, type WorkerSignal } from '../support/worker-process.ts';

const racerFixture = new URL('../fixtures/directory-lock-racer.ts', import.meta.url);
const racerCount = 6;
const trialsPerCondition = 10;
const tasksPerOpen = 3;
const conditions = ['no lock file', 'lock of a SIGKILLed owner', 'old empty lock file'] as const;
type Condition = (typeof conditions)[number];

interface Racer {
  readonly process: WorkerProcess;
  readonly connection: Socket;
}

// One directory for both tests, so that the embedded database is created once.
let database: SharedDatabase;
before(async () => {
  if (usingPostgres) return;
  database = await createSharedDatabase('pglite');
});
after(async () => {
  await database?.remove();
});

const skip = usingPostgres ? 'the directory lock is embedded-only; the run without TEST_DATABASE_URL covers it' : false;

test(`${racerCount} processes racing for one directory: exactly one opens it in each of ${conditions.length * trialsPerCondition} trials, and nothing confirmed is lost`, { skip }, async () => {
  const queue = uniqueQueueName('lock_race');
  const confirmedTaskIds = await runTrials(database.url, queue);
  assert.equal(confirmedTaskIds.length, conditions.length * trialsPerCondition * tasksPerOpen);

  const reopened = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url, queueName: queue });
  try {
    const { rows } = await reopened.database.query<{ task_id: string }>(
      `select task_id::text as task_id from absurd."t_${queue}"`,
    );
    const stored = new Set(rows.map((row) => row.task_id));
    const missing = confirmedTaskIds.filter((taskId) => !stored.has(taskId));
    assert.deepEqual(missing, [], `${missing.length} of ${confirmedTaskIds.length} confirmed tasks are missing`);
  } finally {
    await reopened.close();
  }
});

test('leftovers of dead processes never block an open: a takeover marker, a lock with this pid, a fresh empty lock', { skip }, async () => {
  const lockPath = `${parsePGliteUrl(database.url)}.lock`;
  const openAndClose = async () => {
    const client = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url });
    await client.ready();
    assert.match(readFileSync(lockPath, 'utf8'), new RegExp(`^${process.pid}\\n[0-9a-f]{32}\\n$`));
    await client.close();
    assert.equal(existsSync(lockPath), false);
  };
  await openAndClose();
  const deadPid = await exitedProcessPid();

  // A process killed in the middle of a takeover leaves its marker next to the stale lock.
  writeFileSync(lockPath, `${deadPid}\n${'a'.repeat(32)}\n`);
  writeFileSync(`${lockPath}.takeover`, `${deadPid}\n${'b'.repeat(32)}\n`);
  await openAndClose();
  assert.equal(existsSync(`${lockPath}.takeover`), false, 'the dead takeover marker is removed');

  // This pid with a token this process does not hold: an earlier process that had the same pid.
  writeFileSync(lockPath, `${process.pid}\n${'c'.repeat(32)}\n`);
  await openAndClose();

  // An empty lock file too young to judge is waited out, then taken over.
  writeFileSync(lockPath, '');
  await openAndClose();

  // Closing leaves a lock alone that is no longer this process's.
  const client = new Absurd({ defaultRetryStrategy: { kind: 'none' }, db: database.url });
  await client.ready();
  const othersLock = `${deadPid}\n${'d'.repeat(32)}\n`;
  writeFileSync(lockPath, othersLock);
  await client.close();
  assert.equal(readFileSync(lockPath, 'utf8'), othersLock);
  unlinkSync(lockPath);
});

/** The pid of a process that has already exited. */
async function exitedProcessPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

/** Runs every trial with one pool of racers and returns the ids of the tasks whose spawn() was confirmed. */
async function runTrials(url: string, queue: string): Promise<string[]> {
  const lockPath = `${parsePGliteUrl(url)}.lock`;
  const connectionsByPid = new Map<number, Socket>();
  const server = createServer((connection) => {
    connection.setNoDelay(true);
    // A racer's first line is its pid.
    connection.once('data', (chunk) => connectionsByPid.set(Number.parseInt(String(chunk), 10), connection));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const controlPort = (server.address() as { port: number }).port;
  const started: WorkerProcess[] = [];
  const racers: Racer[] = [];
  const confirmedTaskIds: string[] = [];

  const startRacer = async (): Promise<Racer> => {
    const worker = startWorkerProcess(racerFixture, { options: { url, queue, controlPort, tasksPerOpen } });
    started.push(worker);
    let exited = false;
    void worker.exited.then(() => (exited = true));
    const connection = await waitFor(
      () => {
        if (exited) throw new Error(`racer ${worker.pid} exited before it connected:\n${worker.output()}`);
        return connectionsByPid.get(worker.pid);
      },
      'a racer to connect',
      120_000,
      () => worker.output(),
    );
    return { process: worker, connection };
  };

  try {
    racers.push(...(await Promise.all(Array.from({ length: racerCount }, startRacer))));
    const trials = Array.from({ length: conditions.length * trialsPerCondition }, (_, index) => conditions[index % conditions.length]!);
    for (const [index, condition] of trials.entries()) {
      const trial = index + 1;
      const context = `trial ${trial} (${condition})`;
      prepareCondition(condition, lockPath);
      for (const racer of racers) racer.connection.write(`go ${trial}\n`);
      // The process that replaces an opener about to be killed starts while this trial runs.
      const replacement = trials[index + 1] === 'lock of a SIGKILLed owner' ? startRacer() : undefined;

      const outcomes = await Promise.all(racers.map((racer) => outcomeOf(racer, trial, context)));
      const openers = racers.filter((_, racerIndex) => outcomes[racerIndex]!.signal === 'opened');
      assert.equal(openers.length, 1, `${context}: ${openers.length} processes opened the directory, expected exactly one`);
      for (const outcome of outcomes.filter((signal) => signal.signal === 'refused')) {
        assert.equal(outcome.locked, true, `${context}: refused with ${outcome.name}: ${outcome.message}`);
      }
      const opener = openers[0]!;
      await opener.process.waitForSignal('spawned-all', { where: (signal) => signal.trial === trial });
      for (const signal of opener.process.signals) {
        if (signal.signal === 'spawned' && signal.trial === trial) confirmedTaskIds.push(String(signal.taskID));
      }

      // A trial that starts from a killed owner's lock gets it from the previous trial's opener.
      if (replacement) {
        await opener.process.kill();
        opener.connection.destroy();
        racers.splice(racers.indexOf(opener), 1, await replacement);
      } else {
        opener.connection.write(`close ${trial}\n`);
        await opener.process.waitForSignal('closed', { where: (signal) => signal.trial === trial });
        assert.equal(existsSync(lockPath), false, `${context}: closing removes the lock file`);
      }
    }
    return confirmedTaskIds;
  } finally {
    server.close();
    for (const connection of connectionsByPid.values()) connection.destroy();
    await Promise.all(started.map((worker) => worker.kill()));
  }
}

/** The racer's `opened` or `refused` signal for this trial. */
function outcomeOf(racer: Racer, trial: number, context: string): Promise<WorkerSignal> {
  const isOutcome = (signal: WorkerSignal) =>
    (signal.signal === 'opened' || signal.signal === 'refused') && signal.trial === trial;
  return waitFor(
    () => racer.process.signals.find(isOutcome),
    `${context}: an outcome from process ${racer.process.pid}`,
    60_000,
    () => racer.process.output(),
  );
}

/** The lock file as each condition starts from; the previous trial's opener has closed or was killed. */
function prepareCondition(condition: Condition, lockPath: string): void {
  if (condition === 'no lock file') {
    assert.equal(existsSync(lockPath), false);
  } else if (condition === 'lock of a SIGKILLed owner') {
    assert.match(readFileSync(lockPath, 'utf8'), /^\d+/, 'the killed owner left its pid in the lock');
  } else {
    writeFileSync(lockPath, '');
    const longAgo = new Date(Date.now() - 60_000);
    utimesSync(lockPath, longAgo, longAgo);
  }
}

/** Polls `find` until it returns something; bounded, with `details()` in the timeout message. */
async function waitFor<T>(find: () => T | undefined, what: string, timeoutMs = 10_000, details = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${details()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
