import type { RunPlan } from "./plan-run.js";
import type { CapacityClass } from "./weights.js";

/**
 * The life of a run (docs/run-state-machine.md). Terminal states use DataHub's own status names, except
 * REJECTED: a message refused before admission (reported to DataHub as FAILURE).
 */
export const RunState = {
  WAITING: "WAITING",
  LAUNCHING: "LAUNCHING",
  LAUNCHED: "LAUNCHED",
  RUNNING: "RUNNING",
  SUCCESS: "SUCCESS",
  FAILURE: "FAILURE",
  CANCELLED: "CANCELLED",
  TIMEOUT: "TIMEOUT",
  ABORTED: "ABORTED",
  REJECTED: "REJECTED",
} as const;
export type RunState = (typeof RunState)[keyof typeof RunState];

export const HOLDS_CAPACITY_STATES: readonly RunState[] = [RunState.LAUNCHING, RunState.LAUNCHED, RunState.RUNNING];

/** A run that ended before it was admitted: a refused message, or a cancel for a run never seen. */
export type ClosedRun = {
  runId: string;
  executionRequestUrn: string;
  state: "REJECTED" | "CANCELLED";
  reason: string;
  code?: string;
};

export type HistoryEntry = { atMs: number; state: RunState; reason: string };

export type LaunchIntent = {
  attempt: number;
  /** Used both as ECS startedBy and as RunTask's clientToken. */
  token: string;
  intentAtMs: number;
};

/** Why the executor itself stopped a task; recorded before StopTask so the STOPPED event can be read right. */
export type StopRequest = { by: "cancel" | "timeout" | "start-timeout"; atMs: number; reason: string };

export type RunRecord = Omit<RunPlan, "input"> & {
  state: RunState;
  stateChangedAtMs: number;
  admittedAtMs: number;
  queueKey: string;
  holdsCapacity: boolean;
  /** Counts acquisitions: every RunTask attempt has its own number and token. */
  launchAttempt: number;
  launchFailures: number;
  launch?: LaunchIntent;
  taskArn?: string;
  launchedAtMs?: number;
  notBeforeMs?: number;
  lastLaunchError?: string;
  /** When ECS said RUNNING (the task's startedAt). */
  startedAtMs?: number;
  finishedAtMs?: number;
  /** Task stops not of the run's making (TaskFailedToStart, Spot, ...) so far; retried while < maxAttempts. */
  infraFailures?: number;
  stopRequest?: StopRequest;
  /** When RUNNING was last queued for DataHub; refreshed well inside DataHub Cloud's one-hour sweep. */
  runningReportedAtMs?: number;
  /** Until when one deliverer holds the right to send this run's status to GMS (keeps them in order). */
  gmsLeaseUntilMs?: number;
  /** The last answer GMS refused for good (401/403/404/422), kept for operators. */
  gmsError?: string;
  outcomeReason?: string;
  history: HistoryEntry[];
};

export type QueueEntry = {
  poolId: string;
  capacityClass: CapacityClass;
  queueKey: string;
  runId: string;
  executionRequestUrn: string;
  weightMicro: number;
  /** The run's launchAttempt while it waits: the acquire condition checks it. */
  launchAttempt: number;
  notBeforeMs?: number;
};

/** ECS startedBy allows 36 characters: "dhx-" + 24 hex + "-" + attempt fits with room. */
export function launchTokenFor(runId: string, attempt: number): string {
  return `dhx-${runId}-${attempt}`;
}

const PRIORITY_OFFSET = 1000;

/**
 * Queue order as one sortable string: higher priority first, then arrival, then run id.
 * Priority is -1000..1000, so 1000 - priority is 0..2000 and pads to four digits.
 */
export function queueKeyFor(priority: number, admittedAtMs: number, runId: string): string {
  const rank = String(PRIORITY_OFFSET - priority).padStart(4, "0");
  return `${rank}#${String(admittedAtMs).padStart(15, "0")}#${runId}`;
}

export function isTerminal(state: RunState): boolean {
  return (
    state === RunState.SUCCESS ||
    state === RunState.FAILURE ||
    state === RunState.CANCELLED ||
    state === RunState.TIMEOUT ||
    state === RunState.ABORTED ||
    state === RunState.REJECTED
  );
}
