import { existsSync, readFileSync } from "node:fs";
import { GetLogEventsCommand, type GetLogEventsCommandOutput } from "@aws-sdk/client-cloudwatch-logs";
import { buildTailRequest } from "../../adapters/cloudwatch-logs/cloudwatch-run-logs.js";
import { DynamoDbRunStore } from "../../adapters/dynamodb/dynamodb-run-store.js";
import { localLogPath } from "../../local/local-task-launcher.js";
import { UsageError } from "../cli-output.js";
import type { CliTarget } from "../cli-target.js";

/** The most a stage's log read pages through (10,000 events each). */
const MAX_PAGES = 20;

/**
 * A run's task output (already masked by the task): local mode's file, or the task's CloudWatch stream. The
 * last attempt's unless --attempt says otherwise.
 */
export async function readRunLog(
  target: CliTarget,
  runId: string,
  ref: string,
  attempt: number | undefined,
): Promise<{ attempt: number; source: string; text: string }> {
  const run = await new DynamoDbRunStore(target.doc, target.tableName).getRun(runId);
  if (run === undefined) throw new UsageError(`no run ${ref} in ${target.label}`);
  if (run.launchAttempt === 0) throw new UsageError(`run ${ref} has not been launched yet (it is ${run.state})`);
  const wanted = attempt ?? run.launchAttempt;
  if (wanted < 1 || wanted > run.launchAttempt) {
    throw new UsageError(`run ${ref} has attempts 1 to ${run.launchAttempt}, not ${wanted}`);
  }
  if (target.local !== undefined) {
    const path = localLogPath(target.local.logDir, runId, wanted);
    if (!existsSync(path)) throw new UsageError(`no log for attempt ${wanted} of run ${ref} (${path})`);
    return { attempt: wanted, source: path, text: readFileSync(path, "utf8") };
  }
  if (wanted !== run.launchAttempt || run.taskArn === undefined) {
    // The record keeps the current attempt's task only; older streams are in the log group by task id.
    throw new UsageError(`run ${ref}: only the last attempt's task is recorded (${run.taskArn ?? "none yet"})`);
  }
  const request = { ...buildTailRequest(target.runLogs, run.taskArn), startFromHead: true, limit: 10_000 };
  const lines: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    let answer: GetLogEventsCommandOutput;
    try {
      answer = await target.logs.send(
        new GetLogEventsCommand({ ...request, ...(token === undefined ? {} : { nextToken: token }) }),
      );
    } catch (error) {
      if ((error as { name?: string }).name === "ResourceNotFoundException") {
        throw new UsageError(`no log stream ${request.logStreamName} in ${request.logGroupName} for run ${ref}`);
      }
      throw error;
    }
    lines.push(...(answer.events ?? []).map((e) => e.message ?? ""));
    // GetLogEvents answers the same forward token once the end is reached.
    if (answer.nextForwardToken === undefined || answer.nextForwardToken === token) break;
    token = answer.nextForwardToken;
  }
  return {
    attempt: wanted,
    source: `${request.logGroupName} ${request.logStreamName}`,
    text: lines.length === 0 ? "" : `${lines.join("\n")}\n`,
  };
}
