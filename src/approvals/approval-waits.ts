// How the agent runs of one task execution wait for approvals together. A task can wait on one event
// at a time, and once it has suspended, nothing of that execution may touch the database again. So a
// run whose requests are undecided does not suspend the task itself: it waits here until every run
// of the execution either waits too or has ended, and then the task suspends once, on one event for
// all their requests, which the last of their decisions emits. Every request is then listed together,
// each can be decided while the task sleeps, and the task resumes once all are decided. The one wait
// passes the task's suspension gate like every other wait of the execution.
import { randomUUID } from 'node:crypto';
import { TimeoutError } from 'absurd-sdk';
import { onExecutionEnd, recordedTaskFailure, type CurrentTask } from '../client/current-task.ts';
import { enterRun, parkScope, waitInTurn, type GateWork } from '../client/suspension-gate.ts';
import { tagApprovalWait } from './approval-store.ts';
import { approvalWaitEventName } from './tool-approval.ts';

/** One agent run's place among the runs of its task execution. */
export interface ApprovalWaitMember {
  /**
   * Resolves once the run should look at its requests again (some may be decided, or timed out);
   * rejects with Absurd's suspension (or the error that ended the wait) when the task suspended.
   */
  wait(requestIds: readonly string[]): Promise<void>;
  /**
   * Resolves while the run may go on. Once another run of the execution has ended the task (it
   * suspended or failed), throws that error; once the execution itself has ended, never settles, so
   * a run left behind acts on nothing (it runs no tool on a decision its task will replay).
   */
  whileLive(): Promise<void>;
  /** The run has ended: the others no longer wait for it. */
  leave(): void;
}

interface Member {
  readonly prefix: string;
  readonly parent: Member | undefined;
  children: number;
  waiting: Waiter | undefined;
  left: boolean;
  /** The run as work of the suspension gate: parked while it waits here, ended when it leaves. */
  readonly work: GateWork;
}

interface Waiter {
  readonly requestIds: readonly string[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

const stateKey = 'ai-sdk-absurd:approval-waits';
const never = new Promise<never>(() => {});

/**
 * Adds a run to its task execution's approval waits. `enclosingScope` is the checkpoint name of the tool
 * call the run was started in, if any: while a nested run is going, its parent run counts as busy only through it.
 */
export function joinApprovalWaits(task: CurrentTask, prefix: string, enclosingScope: string | undefined): ApprovalWaitMember {
  let waits = task.state.get(stateKey) as ApprovalWaits | undefined;
  if (!waits) {
    const created = new ApprovalWaits(task);
    task.state.set(stateKey, created);
    onExecutionEnd(task, () => created.endExecution());
    waits = created;
  }
  return waits.join(prefix, enclosingScope);
}

class ApprovalWaits {
  private readonly task: CurrentTask;
  private readonly members = new Set<Member>();
  private suspending = false;
  private ended: { readonly error: unknown } | undefined;
  private executionEnded = false;

  constructor(task: CurrentTask) {
    this.task = task;
  }

  join(prefix: string, enclosingScope: string | undefined): ApprovalWaitMember {
    const parent = enclosingScope === undefined ? undefined : this.enclosingMember(enclosingScope);
    const member: Member = { prefix, parent, children: 0, waiting: undefined, left: false, work: enterRun(this.task, prefix) };
    if (parent) parent.children++;
    this.members.add(member);
    return {
      wait: (requestIds) => this.wait(member, requestIds),
      whileLive: () => this.whileLive(),
      leave: () => this.leave(member),
    };
  }

  /** The innermost live run whose checkpoints contain `scope`. */
  private enclosingMember(scope: string): Member | undefined {
    let found: Member | undefined;
    for (const member of this.members) {
      if (scope.startsWith(`${member.prefix}/`) && (!found || member.prefix.length > found.prefix.length)) found = member;
    }
    return found;
  }

  /** The execution's handler has settled: waits left behind stay where they are. */
  endExecution(): void {
    this.executionEnded = true;
  }

  private whileLive(): Promise<void> {
    if (this.executionEnded) return never;
    const failure = this.ended ?? recordedTaskFailure(this.task);
    return failure ? Promise.reject(failure.error) : Promise.resolve();
  }

  private wait(member: Member, requestIds: readonly string[]): Promise<void> {
    if (this.executionEnded) return never;
    if (this.ended) return Promise.reject(this.ended.error);
    const unpark = parkScope(this.task, member.prefix);
    return new Promise<void>((resolve, reject) => {
      member.waiting = { requestIds, resolve, reject };
      this.suspendWhenIdle();
    }).finally(unpark);
  }

  private leave(member: Member): void {
    if (member.left) return;
    member.left = true;
    member.work.end();
    this.members.delete(member);
    if (member.parent) member.parent.children--;
    this.suspendWhenIdle();
  }

  /** Suspends the task once no run is busy: every live run without a live nested run is waiting. */
  private suspendWhenIdle(): void {
    if (this.suspending || this.ended || this.executionEnded) return;
    const batch: Member[] = [];
    for (const member of this.members) {
      if (member.waiting) batch.push(member);
      else if (member.children === 0) return;
    }
    if (batch.length === 0) return;
    this.suspending = true;
    void this.suspend(batch);
  }

  private async suspend(batch: readonly Member[]): Promise<void> {
    const waiters = batch.map((member) => member.waiting!);
    let outcome: { readonly error: unknown } | undefined;
    try {
      const eventName = approvalWaitEventName(this.task.taskID, randomUUID());
      const wait = await tagApprovalWait(this.task.absurd.database, {
        requestIds: waiters.flatMap((waiter) => waiter.requestIds),
        eventName,
      });
      // Decided in the meantime: nothing to wait for. Otherwise the event may also have come already.
      // The wait takes its turn with the task's other waits (durable sleeps, events): after any of them
      // suspended the task, it suspends without asking the database.
      const timeout = wait.timeoutSeconds ?? undefined;
      if (wait.waiting > 0) await waitInTurn(this.task, () => this.task.ctx.awaitEvent(eventName, { timeout }));
    } catch (error) {
      if (!(error instanceof TimeoutError)) outcome = { error };
    }
    for (const member of batch) member.waiting = undefined;
    this.suspending = false;
    if (outcome) {
      // The task has suspended (or cannot wait): no run of this execution may go on.
      this.ended = outcome;
      for (const member of this.members) {
        const waiter = member.waiting;
        member.waiting = undefined;
        waiter?.reject(outcome.error);
      }
      for (const waiter of waiters) waiter.reject(outcome.error);
      return;
    }
    for (const waiter of waiters) waiter.resolve();
  }
}
