import type { QueryCommandInput, TransactWriteCommandInput, UpdateCommandInput } from "@aws-sdk/lib-dynamodb";
import type { PoolSettings } from "../../core/pool.js";
import { CapacityClass } from "../../core/weights.js";
import { Keys, POOLS_INDEX } from "./table-keys.js";

export const PoolConditions = {
  poolIsNew: "attribute_not_exists(pk)",
  poolExists: "attribute_exists(pk)",
  noDefaultYet: "attribute_not_exists(pk)",
} as const;

/** A pool and one zeroed weight counter per class; optionally the default-pool pointer when none exists yet. */
export function buildCreatePoolTransaction(
  table: string,
  poolId: string,
  settings: PoolSettings,
  nowMs: number,
  claimDefault: boolean,
): TransactWriteCommandInput {
  const counters = Object.values(CapacityClass).map((capacityClass) => ({
    Put: {
      TableName: table,
      Item: {
        ...Keys.capacity(poolId, capacityClass),
        entity: "capacity",
        poolId,
        capacityClass,
        usedMicro: 0,
        holders: 0,
      },
      ConditionExpression: PoolConditions.poolIsNew,
    },
  }));
  return {
    TransactItems: [
      {
        Put: {
          TableName: table,
          Item: {
            ...Keys.pool(poolId),
            entity: "pool",
            kind: "POOL",
            id: poolId,
            ...settings,
            createdAtMs: nowMs,
            updatedAtMs: nowMs,
          },
          ConditionExpression: PoolConditions.poolIsNew,
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        },
      },
      ...counters,
      ...(claimDefault
        ? [
            {
              Put: {
                TableName: table,
                Item: { ...Keys.defaultPool(), entity: "default-pool", poolId, updatedAtMs: nowMs },
                ConditionExpression: PoolConditions.noDefaultYet,
              },
            },
          ]
        : []),
    ],
  };
}

export function buildUpdatePoolRequest(
  table: string,
  poolId: string,
  settings: Partial<PoolSettings>,
  nowMs: number,
): UpdateCommandInput {
  const entries = Object.entries(settings).filter(([, value]) => value !== undefined);
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ":now": nowMs };
  const sets = entries.map(([key, value], i) => {
    names[`#f${i}`] = key;
    values[`:v${i}`] = value;
    return `#f${i} = :v${i}`;
  });
  return {
    TableName: table,
    Key: Keys.pool(poolId),
    UpdateExpression: `SET ${[...sets, "updatedAtMs = :now"].join(", ")}`,
    ConditionExpression: PoolConditions.poolExists,
    ...(entries.length > 0 ? { ExpressionAttributeNames: names } : {}),
    ExpressionAttributeValues: values,
    ReturnValues: "ALL_NEW",
  };
}

/** The default is one pointer item, so there is never more than one default pool. */
export function buildSetDefaultTransaction(table: string, poolId: string, nowMs: number): TransactWriteCommandInput {
  return {
    TransactItems: [
      { ConditionCheck: { TableName: table, Key: Keys.pool(poolId), ConditionExpression: PoolConditions.poolExists } },
      {
        Put: { TableName: table, Item: { ...Keys.defaultPool(), entity: "default-pool", poolId, updatedAtMs: nowMs } },
      },
    ],
  };
}

export function buildListPoolsQuery(table: string): QueryCommandInput {
  return {
    TableName: table,
    IndexName: POOLS_INDEX,
    KeyConditionExpression: "kind = :kind",
    ExpressionAttributeValues: { ":kind": "POOL" },
  };
}
