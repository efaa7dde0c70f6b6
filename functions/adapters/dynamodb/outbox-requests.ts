import type { QueryCommandInput, TransactWriteCommandInput, UpdateCommandInput } from "@aws-sdk/lib-dynamodb";
import type { HistoryEntry } from "../../core/run-record.js";
import type { OutboxEntry } from "../../core/status-outbox.js";
import { Keys } from "./table-keys.js";

/**
 * Pure builders for the GMS outbox. An entry is identified by (run, kind) and versioned by enqueuedAtMs: a
 * RUNNING refresh that replaced an entry in flight is never deleted by the delivery of the entry it replaced.
 */
export const OutboxConditions = {
  sameEntry: "enqueuedAtMs = :enqueuedAt",
  leaseIsFree: "attribute_exists(pk) AND (attribute_not_exists(gmsLeaseUntilMs) OR gmsLeaseUntilMs < :now)",
  leaseIsOurs: "gmsLeaseUntilMs = :until",
} as const;

export function buildOutboxQuery(table: string, exclusiveStartKey?: Record<string, unknown>): QueryCommandInput {
  return {
    TableName: table,
    KeyConditionExpression: "pk = :pk",
    ExpressionAttributeValues: { ":pk": Keys.outboxPartition() },
    ConsistentRead: true,
    ...(exclusiveStartKey === undefined ? {} : { ExclusiveStartKey: exclusiveStartKey }),
  };
}

export function buildRunOutboxQuery(table: string, runId: string): QueryCommandInput {
  return {
    TableName: table,
    KeyConditionExpression: "pk = :pk AND begins_with(sk, :run)",
    ExpressionAttributeValues: { ":pk": Keys.outboxPartition(), ":run": `${runId}#` },
    ConsistentRead: true,
  };
}

/** One deliverer per run at a time, so statuses reach GMS in order even when deliverers overlap. */
export function buildTakeLeaseUpdate(table: string, runId: string, nowMs: number, untilMs: number): UpdateCommandInput {
  return {
    TableName: table,
    Key: Keys.run(runId),
    UpdateExpression: "SET gmsLeaseUntilMs = :until",
    ConditionExpression: OutboxConditions.leaseIsFree,
    ExpressionAttributeValues: { ":until": untilMs, ":now": nowMs },
  };
}

export function buildReleaseLeaseUpdate(table: string, runId: string, untilMs: number): UpdateCommandInput {
  return {
    TableName: table,
    Key: Keys.run(runId),
    UpdateExpression: "REMOVE gmsLeaseUntilMs",
    ConditionExpression: OutboxConditions.leaseIsOurs,
    ExpressionAttributeValues: { ":until": untilMs },
  };
}

/** Counted before each send: a terminal entry tried before is checked against GMS before it is sent again. */
export function buildCountSendUpdate(table: string, entry: OutboxEntry): UpdateCommandInput {
  return {
    TableName: table,
    Key: Keys.outbox(entry.runId, entry.kind),
    UpdateExpression: "SET attempts = attempts + :one",
    ConditionExpression: OutboxConditions.sameEntry,
    ExpressionAttributeValues: { ":one": 1, ":enqueuedAt": entry.enqueuedAtMs },
  };
}

export function buildDeliveredDelete(table: string, entry: OutboxEntry) {
  return {
    TableName: table,
    Key: Keys.outbox(entry.runId, entry.kind),
    ConditionExpression: OutboxConditions.sameEntry,
    ExpressionAttributeValues: { ":enqueuedAt": entry.enqueuedAtMs },
  };
}

/** GMS refused the entry for good (401/403/404/422): drop it and keep GMS's answer on the run. */
export function buildRefusedDeliveryTransaction(
  table: string,
  entry: OutboxEntry,
  error: string,
  nowMs: number,
  runState: string,
): TransactWriteCommandInput {
  const history: HistoryEntry[] = [
    {
      atMs: nowMs,
      state: runState as HistoryEntry["state"],
      reason: `DataHub refused the ${entry.status} status: ${error}`,
    },
  ];
  return {
    TransactItems: [
      { Delete: buildDeliveredDelete(table, entry) },
      {
        Update: {
          TableName: table,
          Key: Keys.run(entry.runId),
          UpdateExpression:
            "SET gmsError = :error, history = list_append(if_not_exists(history, :noHistory), :history)",
          ExpressionAttributeValues: { ":error": error, ":noHistory": [], ":history": history },
        },
      },
    ],
  };
}
