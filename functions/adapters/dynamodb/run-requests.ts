import type {
  GetCommandInput,
  QueryCommandInput,
  TransactWriteCommandInput,
  UpdateCommandInput,
} from "@aws-sdk/lib-dynamodb";
import type { RunPlan } from "../../core/plan-run.js";
import {
  type ClosedRun,
  type HistoryEntry,
  type LaunchIntent,
  launchTokenFor,
  type QueueEntry,
  queueKeyFor,
  type RunRecord,
  RunState,
  type StopRequest,
} from "../../core/run-record.js";
import { type GmsStatus, gmsStatusOf, type OutboxEntry, OutboxKind } from "../../core/status-outbox.js";
import { capMinusWeight } from "../../core/weights.js";
import { ACTIVITY_INDEX, Keys } from "./table-keys.js";

/**
 * Pure builders for every DynamoDB request about runs. Conditions are named clauses; a failed one comes back
 * with the item as it was (ALL_OLD) so the caller can say why.
 */
export const RunConditions = {
  runIsNew: "attribute_not_exists(pk)",
  /** A refused request may be sent again (say, redriven from the DLQ once its pool exists). */
  runIsNewOrRejected: "attribute_not_exists(pk) OR #state = :rejected",
  capacityHasRoom: "attribute_exists(pk) AND usedMicro <= :capMinusW",
  capacityExists: "attribute_exists(pk)",
  runIsWaitingAttempt: "#state = :waiting AND launchAttempt = :attempt",
  runIsLaunchingAttempt: "#state = :launching AND launchAttempt = :attempt",
  runHoldsCapacityForAttempt: "holdsCapacity = :true AND launchAttempt = :attempt",
  queueEntryExists: "attribute_exists(pk)",
  runMayStart: "launchAttempt = :attempt AND (#state = :launching OR #state = :launched)",
  runIsRunningAttempt: "#state = :running AND launchAttempt = :attempt",
  noStopRequestedYet: "holdsCapacity = :true AND launchAttempt = :attempt AND attribute_not_exists(stopRequest)",
} as const;

/** Every status for DataHub goes through the outbox (status-outbox.ts), in the same write as the state it reports. */
export function outboxEntryPut(table: string, entry: OutboxEntry) {
  return { Put: { TableName: table, Item: { ...Keys.outbox(entry.runId, entry.kind), entity: "outbox", ...entry } } };
}

function terminalEntry(
  run: { runId: string; executionRequestUrn: string; launchAttempt?: number },
  status: GmsStatus,
  reason: string,
  nowMs: number,
): OutboxEntry {
  return {
    runId: run.runId,
    executionRequestUrn: run.executionRequestUrn,
    kind: OutboxKind.TERMINAL,
    status,
    reason,
    enqueuedAtMs: nowMs,
    attempts: 0,
    ...(run.launchAttempt === undefined || run.launchAttempt === 0 ? {} : { launchAttempt: run.launchAttempt }),
  };
}

function runningEntry(run: RunRecord, reason: string, nowMs: number): OutboxEntry {
  return {
    runId: run.runId,
    executionRequestUrn: run.executionRequestUrn,
    kind: OutboxKind.RUNNING,
    status: "RUNNING",
    reason,
    enqueuedAtMs: nowMs,
    attempts: 0,
    launchAttempt: run.launchAttempt,
  };
}

const ON_CONDITION_FAILURE = { ReturnValuesOnConditionCheckFailure: "ALL_OLD" } as const;
const APPEND_HISTORY = "history = list_append(if_not_exists(history, :noHistory), :history)";

export function newRunRecord(plan: RunPlan, nowMs: number): RunRecord {
  const { input: _input, ...rest } = plan;
  return {
    ...rest,
    state: RunState.WAITING,
    stateChangedAtMs: nowMs,
    admittedAtMs: nowMs,
    queueKey: queueKeyFor(plan.priority, nowMs, plan.runId),
    holdsCapacity: false,
    launchAttempt: 0,
    launchFailures: 0,
    history: [{ atMs: nowMs, state: RunState.WAITING, reason: `admitted to pool ${plan.poolId}` }],
  };
}

export function queueEntryOf(run: RunRecord): QueueEntry {
  return {
    poolId: run.poolId,
    capacityClass: run.capacityClass,
    queueKey: run.queueKey,
    runId: run.runId,
    executionRequestUrn: run.executionRequestUrn,
    weightMicro: run.weightMicro,
    launchAttempt: run.launchAttempt,
    ...(run.notBeforeMs === undefined ? {} : { notBeforeMs: run.notBeforeMs }),
  };
}

function queueEntryItem(entry: QueueEntry) {
  return { ...Keys.queueEntry(entry.poolId, entry.capacityClass, entry.queueKey), entity: "queue-entry", ...entry };
}

/** Admission: the run, its input and its place in the queue appear together or not at all. */
export function buildAdmitTransaction(table: string, plan: RunPlan, nowMs: number): TransactWriteCommandInput {
  const run = newRunRecord(plan, nowMs);
  return {
    TransactItems: [
      {
        Put: {
          TableName: table,
          Item: { ...Keys.run(plan.runId), entity: "run", ...run },
          ConditionExpression: RunConditions.runIsNewOrRejected,
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: { ":rejected": RunState.REJECTED },
          ...ON_CONDITION_FAILURE,
        },
      },
      {
        Put: {
          TableName: table,
          Item: {
            ...Keys.runInput(plan.runId),
            entity: "run-input",
            runId: plan.runId,
            executionRequestUrn: plan.executionRequestUrn,
            input: plan.input,
          },
          ConditionExpression: RunConditions.runIsNew,
        },
      },
      { Put: { TableName: table, Item: queueEntryItem(queueEntryOf(run)) } },
    ],
  };
}

/**
 * A run that ends before it was ever admitted: a refused message (REJECTED, reported as FAILURE with the reason),
 * or a cancel for a run this executor never had (CANCELLED, "No active execution request found.", as DataHub's
 * executor answers). Written only if the URN is not already a run: a bad duplicate never overwrites a real one.
 */
export function buildClosedRunTransaction(table: string, closed: ClosedRun, nowMs: number): TransactWriteCommandInput {
  const history: HistoryEntry[] = [{ atMs: nowMs, state: closed.state, reason: closed.reason }];
  return {
    TransactItems: [
      {
        Put: {
          TableName: table,
          Item: {
            ...Keys.run(closed.runId),
            entity: "run",
            runId: closed.runId,
            executionRequestUrn: closed.executionRequestUrn,
            state: closed.state,
            stateChangedAtMs: nowMs,
            admittedAtMs: nowMs,
            holdsCapacity: false,
            ...(closed.code === undefined ? {} : { rejectionCode: closed.code }),
            outcomeReason: closed.reason,
            history,
          },
          ConditionExpression: RunConditions.runIsNew,
        },
      },
      outboxEntryPut(table, terminalEntry(closed, gmsStatusOf(closed.state), closed.reason, nowMs)),
    ],
  };
}

export function buildQueueHeadQuery(
  table: string,
  poolId: string,
  capacityClass: QueueEntry["capacityClass"],
  limit: number,
  startAfter?: string,
): QueryCommandInput {
  return {
    TableName: table,
    KeyConditionExpression: startAfter === undefined ? "pk = :pk" : "pk = :pk AND sk > :after",
    ExpressionAttributeValues: {
      ":pk": Keys.queuePartition(poolId, capacityClass),
      ...(startAfter === undefined ? {} : { ":after": startAfter }),
    },
    ConsistentRead: true,
    Limit: limit,
  };
}

export function buildCountAheadQuery(
  table: string,
  entry: Pick<QueueEntry, "poolId" | "capacityClass" | "queueKey">,
): QueryCommandInput {
  return {
    TableName: table,
    KeyConditionExpression: "pk = :pk AND sk < :key",
    ExpressionAttributeValues: {
      ":pk": Keys.queuePartition(entry.poolId, entry.capacityClass),
      ":key": entry.queueKey,
    },
    ConsistentRead: true,
    Select: "COUNT",
  };
}

export function buildGetRun(table: string, runId: string): GetCommandInput {
  return { TableName: table, Key: Keys.run(runId), ConsistentRead: true };
}

export function buildActiveRunsQuery(table: string, poolId: string): QueryCommandInput {
  return {
    TableName: table,
    IndexName: ACTIVITY_INDEX,
    KeyConditionExpression: "activityPk = :pk",
    ExpressionAttributeValues: { ":pk": Keys.activityPartition(poolId) },
  };
}

/**
 * Acquire: add the run's weight to its class counter only if the sum stays within the budget, move the run
 * from WAITING to LAUNCHING with a new attempt (the launch intent), and take it off the queue: all or nothing.
 */
export function buildAcquireTransaction(table: string, entry: QueueEntry, nowMs: number): TransactWriteCommandInput {
  const attempt = entry.launchAttempt + 1;
  const launch: LaunchIntent = { attempt, token: launchTokenFor(entry.runId, attempt), intentAtMs: nowMs };
  const history: HistoryEntry[] = [
    { atMs: nowMs, state: RunState.LAUNCHING, reason: `weight acquired, launch attempt ${attempt}` },
  ];
  return {
    TransactItems: [
      {
        Update: {
          TableName: table,
          Key: Keys.capacity(entry.poolId, entry.capacityClass),
          UpdateExpression: "SET usedMicro = usedMicro + :w, holders = holders + :one",
          ConditionExpression: RunConditions.capacityHasRoom,
          ExpressionAttributeValues: {
            ":w": entry.weightMicro,
            ":one": 1,
            ":capMinusW": capMinusWeight(entry.weightMicro),
          },
          ...ON_CONDITION_FAILURE,
        },
      },
      {
        Update: {
          TableName: table,
          Key: Keys.run(entry.runId),
          UpdateExpression:
            `SET #state = :launching, stateChangedAtMs = :now, holdsCapacity = :true, launchAttempt = :next, ` +
            `launch = :launch, activityPk = :activityPk, activitySk = :runId, ${APPEND_HISTORY} REMOVE notBeforeMs`,
          ConditionExpression: RunConditions.runIsWaitingAttempt,
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: {
            ":launching": RunState.LAUNCHING,
            ":waiting": RunState.WAITING,
            ":attempt": entry.launchAttempt,
            ":next": attempt,
            ":now": nowMs,
            ":true": true,
            ":launch": launch,
            ":activityPk": Keys.activityPartition(entry.poolId),
            ":runId": entry.runId,
            ":noHistory": [],
            ":history": history,
          },
          ...ON_CONDITION_FAILURE,
        },
      },
      {
        Delete: {
          TableName: table,
          Key: Keys.queueEntry(entry.poolId, entry.capacityClass, entry.queueKey),
          ConditionExpression: RunConditions.queueEntryExists,
        },
      },
    ],
  };
}

export function buildRecordLaunchedUpdate(
  table: string,
  run: RunRecord,
  taskArn: string,
  nowMs: number,
): UpdateCommandInput {
  const history: HistoryEntry[] = [{ atMs: nowMs, state: RunState.LAUNCHED, reason: `ECS task ${taskArn}` }];
  return {
    TableName: table,
    Key: Keys.run(run.runId),
    UpdateExpression: `SET #state = :launched, stateChangedAtMs = :now, taskArn = :taskArn, launchedAtMs = :now, ${APPEND_HISTORY}`,
    ConditionExpression: RunConditions.runIsLaunchingAttempt,
    ExpressionAttributeNames: { "#state": "state" },
    ExpressionAttributeValues: {
      ":launched": RunState.LAUNCHED,
      ":launching": RunState.LAUNCHING,
      ":attempt": run.launchAttempt,
      ":now": nowMs,
      ":taskArn": taskArn,
      ":noHistory": [],
      ":history": history,
    },
    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
  };
}

function releaseCapacityItem(table: string, run: RunRecord) {
  return {
    Update: {
      TableName: table,
      Key: Keys.capacity(run.poolId, run.capacityClass),
      UpdateExpression: "SET usedMicro = usedMicro - :w, holders = holders - :one",
      ConditionExpression: RunConditions.capacityExists,
      ExpressionAttributeValues: { ":w": run.weightMicro, ":one": 1 },
    },
  };
}

/**
 * Gives the weight back and puts the run back at its old place in the queue, not before notBeforeMs, once (the
 * holds-capacity condition). Two causes: a launch that provably created no task (failures[], throttling; only
 * from LAUNCHING), and a task stopped by AWS, not by the run (TaskFailedToStart, Spot, ...), while attempts remain.
 */
export function buildRequeueTransaction(
  table: string,
  run: RunRecord,
  failure: { cause: "launch" | "infrastructure"; reason: string; notBeforeMs: number },
  nowMs: number,
): TransactWriteCommandInput {
  const requeued: RunRecord = { ...run, state: RunState.WAITING, notBeforeMs: failure.notBeforeMs };
  const retryAt = new Date(failure.notBeforeMs).toISOString();
  const what =
    failure.cause === "launch"
      ? `launch attempt ${run.launchAttempt} failed`
      : "the task stopped for a reason not of the run's making";
  const history: HistoryEntry[] = [
    { atMs: nowMs, state: RunState.WAITING, reason: `${what}; retry after ${retryAt}: ${failure.reason}` },
  ];
  const counter =
    failure.cause === "launch"
      ? "launchFailures = launchFailures + :one, lastLaunchError = :reason"
      : "infraFailures = if_not_exists(infraFailures, :zero) + :one, lastLaunchError = :reason";
  return {
    TransactItems: [
      releaseCapacityItem(table, run),
      {
        Update: {
          TableName: table,
          Key: Keys.run(run.runId),
          UpdateExpression:
            `SET #state = :waiting, stateChangedAtMs = :now, holdsCapacity = :false, notBeforeMs = :notBefore, ` +
            `${counter}, ${APPEND_HISTORY} REMOVE activityPk, activitySk, launch, taskArn, startedAtMs, stopRequest`,
          ConditionExpression:
            failure.cause === "launch"
              ? `${RunConditions.runHoldsCapacityForAttempt} AND #state = :launching`
              : RunConditions.runHoldsCapacityForAttempt,
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: {
            ":waiting": RunState.WAITING,
            ...(failure.cause === "launch" ? { ":launching": RunState.LAUNCHING } : { ":zero": 0 }),
            ":true": true,
            ":false": false,
            ":attempt": run.launchAttempt,
            ":notBefore": failure.notBeforeMs,
            ":one": 1,
            ":reason": failure.reason,
            ":now": nowMs,
            ":noHistory": [],
            ":history": history,
          },
          ...ON_CONDITION_FAILURE,
        },
      },
      { Put: { TableName: table, Item: queueEntryItem(queueEntryOf(requeued)) } },
    ],
  };
}

/**
 * Ends a run that holds weight: the weight goes back, the run takes its final state and its terminal status for
 * DataHub joins the outbox, all once. The condition on the run's own item (it still holds weight for this
 * attempt) makes a repeated release a no-op failure instead of a double count. `onlyFrom` narrows it further (a
 * launch failure may only end a LAUNCHING run).
 */
export function buildReleaseTransaction(
  table: string,
  run: RunRecord,
  outcome: { state: RunState; reason: string; onlyFrom?: RunState },
  nowMs: number,
): TransactWriteCommandInput {
  const history: HistoryEntry[] = [{ atMs: nowMs, state: outcome.state, reason: outcome.reason }];
  const stateClause = outcome.onlyFrom === undefined ? "" : " AND #state = :from";
  return {
    TransactItems: [
      releaseCapacityItem(table, run),
      {
        Update: {
          TableName: table,
          Key: Keys.run(run.runId),
          UpdateExpression:
            `SET #state = :final, stateChangedAtMs = :now, finishedAtMs = :now, holdsCapacity = :false, ` +
            `outcomeReason = :reason, ${APPEND_HISTORY} REMOVE activityPk, activitySk`,
          ConditionExpression: `${RunConditions.runHoldsCapacityForAttempt}${stateClause}`,
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: {
            ":final": outcome.state,
            ...(outcome.onlyFrom === undefined ? {} : { ":from": outcome.onlyFrom }),
            ":true": true,
            ":false": false,
            ":attempt": run.launchAttempt,
            ":reason": outcome.reason,
            ":now": nowMs,
            ":noHistory": [],
            ":history": history,
          },
          ...ON_CONDITION_FAILURE,
        },
      },
      outboxEntryPut(table, terminalEntry(run, gmsStatusOf(outcome.state), outcome.reason, nowMs)),
    ],
  };
}

/**
 * ECS said RUNNING for the run's current attempt: record it (and the task ARN, which a RUNNING event can bring
 * before RunTask's answer was recorded) and queue RUNNING with its start time for DataHub.
 */
export function buildMarkRunningTransaction(
  table: string,
  run: RunRecord,
  started: { taskArn: string; startedAtMs: number },
  nowMs: number,
): TransactWriteCommandInput {
  const history: HistoryEntry[] = [
    { atMs: nowMs, state: RunState.RUNNING, reason: `ECS task ${started.taskArn} is running` },
  ];
  return {
    TransactItems: [
      {
        Update: {
          TableName: table,
          Key: Keys.run(run.runId),
          UpdateExpression:
            `SET #state = :running, stateChangedAtMs = :now, taskArn = :taskArn, startedAtMs = :startedAt, ` +
            `launchedAtMs = if_not_exists(launchedAtMs, :now), runningReportedAtMs = :now, ${APPEND_HISTORY}`,
          ConditionExpression: RunConditions.runMayStart,
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: {
            ":running": RunState.RUNNING,
            ":launching": RunState.LAUNCHING,
            ":launched": RunState.LAUNCHED,
            ":attempt": run.launchAttempt,
            ":taskArn": started.taskArn,
            ":startedAt": started.startedAtMs,
            ":now": nowMs,
            ":noHistory": [],
            ":history": history,
          },
          ...ON_CONDITION_FAILURE,
        },
      },
      outboxEntryPut(table, runningEntry(run, "the task is running", nowMs)),
    ],
  };
}

/** Re-queues RUNNING for a run that still runs, so DataHub's record stays fresh (a changed payload each time). */
export function buildRefreshRunningTransaction(
  table: string,
  run: RunRecord,
  nowMs: number,
): TransactWriteCommandInput {
  return {
    TransactItems: [
      {
        Update: {
          TableName: table,
          Key: Keys.run(run.runId),
          UpdateExpression: "SET runningReportedAtMs = :now",
          ConditionExpression: RunConditions.runIsRunningAttempt,
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: { ":running": RunState.RUNNING, ":attempt": run.launchAttempt, ":now": nowMs },
          ...ON_CONDITION_FAILURE,
        },
      },
      outboxEntryPut(table, runningEntry(run, "the task is still running", nowMs)),
    ],
  };
}

/** A waiting run cancelled: off the queue and CANCELLED in one step; it never held weight. */
export function buildCancelWaitingTransaction(
  table: string,
  run: RunRecord,
  reason: string,
  nowMs: number,
): TransactWriteCommandInput {
  const history: HistoryEntry[] = [{ atMs: nowMs, state: RunState.CANCELLED, reason }];
  return {
    TransactItems: [
      {
        Delete: {
          TableName: table,
          Key: Keys.queueEntry(run.poolId, run.capacityClass, run.queueKey),
          ConditionExpression: RunConditions.queueEntryExists,
        },
      },
      {
        Update: {
          TableName: table,
          Key: Keys.run(run.runId),
          UpdateExpression: `SET #state = :cancelled, stateChangedAtMs = :now, finishedAtMs = :now, outcomeReason = :reason, ${APPEND_HISTORY}`,
          ConditionExpression: RunConditions.runIsWaitingAttempt,
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: {
            ":cancelled": RunState.CANCELLED,
            ":waiting": RunState.WAITING,
            ":attempt": run.launchAttempt,
            ":reason": reason,
            ":now": nowMs,
            ":noHistory": [],
            ":history": history,
          },
          ...ON_CONDITION_FAILURE,
        },
      },
      outboxEntryPut(table, terminalEntry(run, "CANCELLED", reason, nowMs)),
    ],
  };
}

/** Records why the executor is about to stop the run's task, before StopTask, so the STOPPED event reads right. */
export function buildRequestStopUpdate(table: string, run: RunRecord, stop: StopRequest): UpdateCommandInput {
  const history: HistoryEntry[] = [
    { atMs: stop.atMs, state: run.state, reason: `stop requested (${stop.by}): ${stop.reason}` },
  ];
  return {
    TableName: table,
    Key: Keys.run(run.runId),
    UpdateExpression: `SET stopRequest = :stop, ${APPEND_HISTORY}`,
    ConditionExpression: RunConditions.noStopRequestedYet,
    ExpressionAttributeValues: {
      ":stop": stop,
      ":true": true,
      ":attempt": run.launchAttempt,
      ":noHistory": [],
      ":history": history,
    },
    ReturnValues: "ALL_NEW",
    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
  };
}
