import type { ExecutionResultValue } from "../core/execution-result.js";
import type { RunTaskAnswer } from "../core/launch-outcome.js";
import type { RunPlan } from "../core/plan-run.js";
import type { Pool, PoolSettings } from "../core/pool.js";
import type { ClosedRun, QueueEntry, RunRecord, RunState, StopRequest } from "../core/run-record.js";
import type { RunReport } from "../core/run-report.js";
import type { OutboxEntry } from "../core/status-outbox.js";
import type { CapacityClass } from "../core/weights.js";

/** The small interfaces the application needs from the outside world; adapters implement them. */

export interface RunStore {
  /** @throws RunAlreadyAdmittedError */
  admit(plan: RunPlan, nowMs: number): Promise<RunRecord>;
  /** A run that ended before admission (refused, or cancelled unknown), with its terminal status queued. */
  recordClosedRun(closed: ClosedRun, nowMs: number): Promise<"recorded" | "run-exists">;
  getRun(runId: string): Promise<RunRecord | undefined>;
  readQueue(poolId: string, capacityClass: CapacityClass, limit: number, startAfter?: string): Promise<QueueEntry[]>;
  countAhead(entry: Pick<QueueEntry, "poolId" | "capacityClass" | "queueKey">): Promise<number>;
  /** @throws CapacityExhaustedError | RunStateChangedError */
  acquire(entry: QueueEntry, nowMs: number): Promise<RunRecord>;
  /** @throws RunStateChangedError */
  recordLaunched(run: RunRecord, taskArn: string, nowMs: number): Promise<RunRecord>;
  /** Releases the weight and requeues the run with a backoff, once. @throws RunStateChangedError */
  requeue(
    run: RunRecord,
    failure: { cause: "launch" | "infrastructure"; reason: string; notBeforeMs: number },
    nowMs: number,
  ): Promise<void>;
  /** @throws RunStateChangedError */
  failLaunch(run: RunRecord, reason: string, nowMs: number): Promise<void>;
  /** Releases the run's weight, gives it its final state and queues that for DataHub, once. @throws RunStateChangedError */
  finish(run: RunRecord, outcome: { state: RunState; reason: string }, nowMs: number): Promise<void>;
  /** @throws RunStateChangedError */
  markRunning(run: RunRecord, started: { taskArn: string; startedAtMs: number }, nowMs: number): Promise<void>;
  /** @throws RunStateChangedError */
  refreshRunning(run: RunRecord, nowMs: number): Promise<void>;
  /** @throws RunStateChangedError */
  cancelWaiting(run: RunRecord, reason: string, nowMs: number): Promise<void>;
  /** @throws RunStateChangedError */
  requestStop(run: RunRecord, stop: StopRequest): Promise<RunRecord>;
  getReport(runId: string, attempt: number): Promise<RunReport | undefined>;
  readCapacity(poolId: string, capacityClass: CapacityClass): Promise<{ usedMicro: number; holders: number }>;
  listActiveRuns(poolId: string): Promise<RunRecord[]>;
}

/** Statuses waiting for DataHub (core/status-outbox.ts), and the per-run lease that keeps their order. */
export interface StatusOutbox {
  listPending(): Promise<OutboxEntry[]>;
  listPendingForRun(runId: string): Promise<OutboxEntry[]>;
  takeLease(runId: string, nowMs: number, untilMs: number): Promise<boolean>;
  releaseLease(runId: string, untilMs: number): Promise<void>;
  /** false when the entry was replaced (a newer RUNNING) or delivered by someone else meanwhile. */
  countSend(entry: OutboxEntry): Promise<boolean>;
  markDelivered(entry: OutboxEntry): Promise<void>;
  markRefused(entry: OutboxEntry, error: string, nowMs: number, runState: RunState): Promise<void>;
}

export interface PoolStore {
  get(poolId: string): Promise<Pool | undefined>;
  getDefault(): Promise<Pool | undefined>;
  list(): Promise<Pool[]>;
  /** Creates the pool and its capacity counters; the first pool ever created becomes the default. */
  create(poolId: string, settings: PoolSettings): Promise<Pool>;
  update(poolId: string, settings: Partial<PoolSettings>): Promise<Pool>;
  setDefault(poolId: string): Promise<void>;
}

/** What ECS says about one task; `MISSING` when ECS no longer knows it (stopped tasks stay about an hour). */
export type TaskView = {
  taskArn: string;
  lastStatus: string;
  stopCode?: string;
  stoppedReason?: string;
  startedAtMs?: number;
  containers: { name?: string; exitCode?: number; reason?: string }[];
};

export interface TaskLauncher {
  /** The task an earlier attempt may already have started, found by its startedBy token. */
  findTask(token: string): Promise<string | undefined>;
  runTask(run: RunRecord): Promise<RunTaskAnswer>;
  /** StopTask with a reason that marks the stop as the executor's. */
  stopTask(taskArn: string, reason: string): Promise<void>;
  describeTasks(taskArns: string[]): Promise<TaskView[]>;
}

/** The end of a run's CloudWatch log stream, for runs whose task left no report item. */
export interface RunLogs {
  tail(taskArn: string): Promise<string | undefined>;
}

export type ExecutorStatusReport = {
  releaseVersion: string;
  uptimeSeconds: number;
  /** Epoch SECONDS (DataHub shows a record older than an hour as stale). */
  reportedAtSeconds: number;
  hostname?: string;
};

/**
 * What the executor needs from DataHub's GMS. Its errors say whether trying again can help: `retryable: false`
 * (GMS refused for good: 401, 403, 404, 422) or `retryable: true` (unreachable, 429, 5xx: keep the write).
 */
export interface DataHubStatusApi {
  writeExecutionResult(executionRequestUrn: string, value: ExecutionResultValue): Promise<void>;
  /** undefined when the request has no result aspect yet. */
  readExecutionResult(executionRequestUrn: string): Promise<ExecutionResultValue | undefined>;
  /** undefined when nobody asked to cancel. */
  readKillSignal(executionRequestUrn: string): Promise<{ signal: string; createdAtMs?: number } | undefined>;
  writeExecutorStatus(stage: string, poolId: string, status: ExecutorStatusReport): Promise<void>;
}

export interface DeadLetterQueue {
  send(message: {
    body: string;
    messageId: string;
    code: string;
    reason: string;
    executionRequestUrn?: string;
  }): Promise<void>;
}

export type StatusApiError = Error & { retryable: boolean };

export function isStatusApiError(error: unknown): error is StatusApiError {
  return error instanceof Error && typeof (error as { retryable?: unknown }).retryable === "boolean";
}

export type Clock = () => number;
