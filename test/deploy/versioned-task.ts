// What the deploy suite and its worker processes share: the worker's options and the task's shape.

export interface VersionedWorkerOptions {
  readonly url: string;
  readonly queue: string;
  readonly version: string;
  readonly queueVersion?: string;
  readonly acceptVersions?: readonly string[];
  readonly mode: 'serve' | 'drain';
}

/** What the task returns: which version wrote each of its two steps, and the version its run recorded. */
export interface AnalyseResult {
  readonly draftedBy: string;
  readonly finishedBy: string;
  readonly recordedVersion: string | null;
}

/** The event that lets a drafted task finish: until it is emitted the run is in flight, waiting. */
export const releaseEvent = (taskID: string) => `release:${taskID}`;
