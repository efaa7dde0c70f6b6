import type { RunTaskAnswer } from "../core/launch-outcome.js";
import type { RunPlan } from "../core/plan-run.js";
import type { Pool, PoolSettings } from "../core/pool.js";
import type { QueueEntry, RunRecord, RunState } from "../core/run-record.js";
import type { CapacityClass } from "../core/weights.js";

/** The small interfaces the application needs from the outside world; adapters implement them. */

export interface RunStore {
  /** @throws RunAlreadyAdmittedError */
  admit(plan: RunPlan, nowMs: number): Promise<RunRecord>;
  recordRejection(
    rejected: { runId: string; executionRequestUrn: string; code: string; reason: string },
    nowMs: number,
  ): Promise<"recorded" | "run-exists">;
  getRun(runId: string): Promise<RunRecord | undefined>;
  readQueue(poolId: string, capacityClass: CapacityClass, limit: number, startAfter?: string): Promise<QueueEntry[]>;
  countAhead(entry: Pick<QueueEntry, "poolId" | "capacityClass" | "queueKey">): Promise<number>;
  /** @throws CapacityExhaustedError | RunStateChangedError */
  acquire(entry: QueueEntry, nowMs: number): Promise<RunRecord>;
  /** @throws RunStateChangedError */
  recordLaunched(run: RunRecord, taskArn: string, nowMs: number): Promise<RunRecord>;
  /** @throws RunStateChangedError */
  requeueAfterLaunchFailure(
    run: RunRecord,
    failure: { reason: string; notBeforeMs: number },
    nowMs: number,
  ): Promise<void>;
  /** @throws RunStateChangedError */
  failLaunch(run: RunRecord, reason: string, nowMs: number): Promise<void>;
  /** Releases the run's weight and gives it its final state, once. @throws RunStateChangedError */
  finish(run: RunRecord, outcome: { state: RunState; reason: string }, nowMs: number): Promise<void>;
  readCapacity(poolId: string, capacityClass: CapacityClass): Promise<{ usedMicro: number; holders: number }>;
  listActiveRuns(poolId: string): Promise<RunRecord[]>;
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

export interface TaskLauncher {
  /** The task an earlier attempt may already have started, found by its startedBy token. */
  findTask(token: string): Promise<string | undefined>;
  runTask(run: RunRecord): Promise<RunTaskAnswer>;
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

export type Clock = () => number;
