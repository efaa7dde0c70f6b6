import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import { ACTIVITY_INDEX, POOLS_INDEX } from "./table-keys.js";

/**
 * The executor table's keys and indexes, as local mode and the tests create it. serverless.yml declares the
 * same table for AWS; a test compares the two.
 */
export function executorTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [
      { AttributeName: "pk", AttributeType: "S" },
      { AttributeName: "sk", AttributeType: "S" },
      { AttributeName: "activityPk", AttributeType: "S" },
      { AttributeName: "activitySk", AttributeType: "S" },
      { AttributeName: "kind", AttributeType: "S" },
    ],
    KeySchema: [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: ACTIVITY_INDEX,
        KeySchema: [
          { AttributeName: "activityPk", KeyType: "HASH" },
          { AttributeName: "activitySk", KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "ALL" },
      },
      {
        IndexName: POOLS_INDEX,
        KeySchema: [
          { AttributeName: "kind", KeyType: "HASH" },
          { AttributeName: "pk", KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "ALL" },
      },
    ],
  };
}
