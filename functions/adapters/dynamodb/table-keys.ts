import type { OutboxKind } from "../../core/status-outbox.js";
import type { CapacityClass } from "../../core/weights.js";

/**
 * One table holds pools, capacity counters, runs, their inputs and the waiting queues
 * (docs/dynamodb-layout.md). Keys are built here and nowhere else.
 */
export const Keys = {
  pool: (poolId: string) => ({ pk: `POOL#${poolId}`, sk: "POOL" }),
  capacity: (poolId: string, capacityClass: CapacityClass) => ({
    pk: `POOL#${poolId}`,
    sk: `CAPACITY#${capacityClass}`,
  }),
  defaultPool: () => ({ pk: "DEFAULT_POOL", sk: "DEFAULT_POOL" }),
  run: (runId: string) => ({ pk: `RUN#${runId}`, sk: "RUN" }),
  runInput: (runId: string) => ({ pk: `RUN#${runId}`, sk: "INPUT" }),
  /** The task image leaves one per launch attempt (docs/task-image.md); the completion handler reads it. */
  runReport: (runId: string, attempt: number) => ({
    pk: `RUN#${runId}`,
    sk: `REPORT#${String(attempt).padStart(3, "0")}`,
  }),
  queuePartition: (poolId: string, capacityClass: CapacityClass) => `QUEUE#${poolId}#${capacityClass}`,
  queueEntry: (poolId: string, capacityClass: CapacityClass, queueKey: string) => ({
    pk: Keys.queuePartition(poolId, capacityClass),
    sk: queueKey,
  }),
  /** Sparse GSI: only runs holding weight carry activityPk, so the reconciler reads just those. */
  activityPartition: (poolId: string) => `ACTIVE#${poolId}`,
  /** Statuses waiting for GMS, all in one partition so the reconciler drains them with one Query. */
  outboxPartition: () => "OUTBOX",
  outbox: (runId: string, kind: OutboxKind) => ({ pk: "OUTBOX", sk: `${runId}#${kind}` }),
  /** The intake's "already enqueued" marker, one per execution request and message kind (docs/intake.md). */
  intakeMarker: (executionRequestUrn: string, kind: "run" | "cancel") => ({
    pk: `INTAKE#${executionRequestUrn}`,
    sk: kind === "run" ? "RUN" : "CANCEL",
  }),
} as const;

export const ACTIVITY_INDEX = "byActivity";
export const POOLS_INDEX = "byKind";
