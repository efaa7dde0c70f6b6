import type {
  GetCommandInput,
  QueryCommandInput,
  TransactWriteCommandInput,
  UpdateCommandInput,
} from "@aws-sdk/lib-dynamodb";
import type { RunPlan } from "../../core/plan-run.js";
import {
  type HistoryEntry,
  type LaunchIntent,
  launchTokenFor,
  type QueueEntry,
  queueKeyFor,
  type RunRecord,
  RunState,
} from "../../core/run-record.js";
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
} as const;

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

/** A refused message with a usable URN still leaves a record, unless that URN is already a run. */
export function buildRejectedRunPut(
  table: string,
  rejected: { runId: string; executionRequestUrn: string; code: string; reason: string },
  nowMs: number,
) {
  const history: HistoryEntry[] = [{ atMs: nowMs, state: RunState.REJECTED, reason: rejected.reason }];
  return {
    TableName: table,
    Item: {
      ...Keys.run(rejected.runId),
      entity: "run",
      runId: rejected.runId,
      executionRequestUrn: rejected.executionRequestUrn,
      state: RunState.REJECTED,
      stateChangedAtMs: nowMs,
      admittedAtMs: nowMs,
      holdsCapacity: false,
      rejectionCode: rejected.code,
      outcomeReason: rejected.reason,
      history,
    },
    ConditionExpression: RunConditions.runIsNew,
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
 * A launch that provably created no task (failures[], throttling) gives the weight back and puts the run
 * back at its old place in the queue, not before notBeforeMs. The holds-capacity condition makes it once-only.
 */
export function buildRequeueTransaction(
  table: string,
  run: RunRecord,
  failure: { reason: string; notBeforeMs: number },
  nowMs: number,
): TransactWriteCommandInput {
  const requeued: RunRecord = { ...run, state: RunState.WAITING, notBeforeMs: failure.notBeforeMs };
  const history: HistoryEntry[] = [
    {
      atMs: nowMs,
      state: RunState.WAITING,
      reason: `launch attempt ${run.launchAttempt} failed, retry after ${new Date(failure.notBeforeMs).toISOString()}: ${failure.reason}`,
    },
  ];
  return {
    TransactItems: [
      releaseCapacityItem(table, run),
      {
        Update: {
          TableName: table,
          Key: Keys.run(run.runId),
          UpdateExpression:
            `SET #state = :waiting, stateChangedAtMs = :now, holdsCapacity = :false, notBeforeMs = :notBefore, ` +
            `launchFailures = launchFailures + :one, lastLaunchError = :reason, ${APPEND_HISTORY} REMOVE activityPk, activitySk, launch`,
          ConditionExpression: `${RunConditions.runHoldsCapacityForAttempt} AND #state = :launching`,
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: {
            ":waiting": RunState.WAITING,
            ":launching": RunState.LAUNCHING,
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
 * Ends a run that holds weight: the weight goes back and the run takes its final state, once. The condition
 * on the run's own item (it still holds weight for this attempt) makes a repeated release a no-op failure
 * instead of a double count. `onlyFrom` narrows it further (a launch failure may only end a LAUNCHING run).
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
            `SET #state = :final, stateChangedAtMs = :now, holdsCapacity = :false, outcomeReason = :reason, ` +
            `${APPEND_HISTORY} REMOVE activityPk, activitySk`,
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
    ],
  };
}
