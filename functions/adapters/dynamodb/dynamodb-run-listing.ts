import { type DynamoDBDocumentClient, ScanCommand, type ScanCommandInput } from "@aws-sdk/lib-dynamodb";
import type { RunRecord } from "../../core/run-record.js";
import { toRunRecord } from "./dynamodb-run-store.js";

/**
 * Every run item, for the operator's `dhx status`. A Scan reads the whole table, so its cost grows with the
 * table (runs, inputs, reports, queue entries): fine for local mode and small stages, and the reason the
 * executor itself never lists runs this way (it reads queues and the activity index).
 */
export function buildRunScan(table: string, startKey?: Record<string, unknown>): ScanCommandInput {
  return {
    TableName: table,
    FilterExpression: "#entity = :run",
    ExpressionAttributeNames: { "#entity": "entity" },
    ExpressionAttributeValues: { ":run": "run" },
    ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
  };
}

export async function listAllRuns(doc: DynamoDBDocumentClient, table: string): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new ScanCommand(buildRunScan(table, start)));
    runs.push(...(page.Items ?? []).map(toRunRecord));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return runs;
}
