import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { DynamoDbRunStore } from "../../adapters/dynamodb/dynamodb-run-store.js";
import { MAX_BODY_BYTES } from "../../core/execution-request-message.js";
import { EXTRA_ENV, runIdFor } from "../../core/plan-run.js";
import { POOL_ID_PATTERN } from "../../core/pool.js";
import { isTerminal } from "../../core/run-record.js";
import { parseWeight } from "../../core/weights.js";
import { UsageError } from "../cli-output.js";
import type { CliTarget } from "../cli-target.js";

export type SubmitOptions = {
  recipePath: string;
  pool?: string | undefined;
  weight?: string | undefined;
  memory?: string | undefined;
  priority?: string | undefined;
  cliVersion?: string | undefined;
  task?: string | undefined;
};

/** Builds the v1 run message DataHub's intake would send, from a recipe file and the options. */
export function buildSubmitMessage(options: SubmitOptions, executionRequestUrn: string, nowMs: number): string {
  if (!existsSync(options.recipePath)) throw new UsageError(`no recipe file ${options.recipePath}`);
  const recipe = readFileSync(options.recipePath, "utf8");
  if (recipe.trim() === "") throw new UsageError(`recipe file ${options.recipePath} is empty`);
  const extraEnv: Record<string, string> = {};
  if (options.weight !== undefined) {
    const weight = parseWeight(options.weight);
    if (!weight.ok) throw new UsageError(`--weight: ${weight.problem}`);
    extraEnv[EXTRA_ENV.WEIGHT] = options.weight;
  }
  if (options.memory !== undefined) extraEnv[EXTRA_ENV.MEMORY_LIMIT] = String(parseMemoryKiB(options.memory));
  if (options.pool !== undefined && !POOL_ID_PATTERN.test(options.pool)) {
    throw new UsageError(`--pool: "${options.pool}" is not a pool id (1-64 letters, digits, '_', '.' or '-')`);
  }
  let priority: number | undefined;
  if (options.priority !== undefined) {
    if (!/^-?\d{1,4}$/.test(options.priority) || Math.abs(Number(options.priority)) > 1000) {
      throw new UsageError(`--priority must be a whole number from -1000 to 1000, got ${options.priority}`);
    }
    priority = Number(options.priority);
  }
  const task = options.task ?? "RUN_INGEST";
  if (task !== "RUN_INGEST" && task !== "TEST_CONNECTION") {
    throw new UsageError(`--task must be RUN_INGEST or TEST_CONNECTION, got ${task}`);
  }
  const body = JSON.stringify({
    version: 1,
    executionRequestUrn,
    ...(options.pool === undefined ? {} : { pool: options.pool }),
    ...(priority === undefined ? {} : { priority }),
    input: {
      task,
      args: {
        recipe,
        ...(options.cliVersion === undefined ? {} : { version: options.cliVersion }),
        ...(Object.keys(extraEnv).length === 0 ? {} : { extra_env_vars: JSON.stringify(extraEnv) }),
      },
      source: { type: "CLI_INGESTION_SOURCE" },
      requestedAt: nowMs,
    },
  });
  if (Buffer.byteLength(body) > MAX_BODY_BYTES) {
    throw new UsageError(`the recipe makes a message over ${MAX_BODY_BYTES} bytes; the intake would refuse it`);
  }
  return body;
}

/** "2GiB", "512MiB" or a number of KiB (EXECUTOR_TASK_MEMORY_LIMIT's unit). */
export function parseMemoryKiB(text: string): number {
  const match = /^(\d{1,9})\s*(KiB|MiB|GiB)?$/i.exec(text.trim());
  if (match?.[1] === undefined) {
    throw new UsageError(`--memory must be KiB (e.g. 4194304) or a size like 512MiB or 4GiB, got ${text}`);
  }
  const unit = (match[2] ?? "KiB").toLowerCase();
  const kib = Number(match[1]) * (unit === "gib" ? 1024 * 1024 : unit === "mib" ? 1024 : 1);
  if (kib < 1) throw new UsageError(`--memory must be more than 0, got ${text}`);
  return kib;
}

export async function submitCommand(
  target: CliTarget,
  options: SubmitOptions,
): Promise<{ executionRequestUrn: string; runId: string }> {
  const executionRequestUrn = `urn:li:dataHubExecutionRequest:dhx-${randomUUID()}`;
  // The target first: a wrong stage is the thing to fix before any option.
  const queueUrl = await target.intakeQueueUrl();
  const body = buildSubmitMessage(options, executionRequestUrn, Date.now());
  await target.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  return { executionRequestUrn, runId: runIdFor(executionRequestUrn) };
}

export type CancelAnswer =
  | { kind: "sent"; executionRequestUrn: string; runId: string; state: string }
  | { kind: "already-finished"; executionRequestUrn: string; runId: string; state: string };

/**
 * Sends a cancel message to the intake, the same path DataHub's cancel takes: a waiting run leaves its queue, a
 * started one gets StopTask. A run that already ended is left as it ended, and nothing is sent.
 */
export async function cancelCommand(
  target: CliTarget,
  runId: string,
  ref: string,
  reason: string,
): Promise<CancelAnswer> {
  const run = await new DynamoDbRunStore(target.doc, target.tableName).getRun(runId);
  if (run === undefined) throw new UsageError(`no run ${ref} in ${target.label}`);
  const ids = { executionRequestUrn: run.executionRequestUrn, runId, state: run.state };
  if (isTerminal(run.state)) return { kind: "already-finished", ...ids };
  await target.sqs.send(
    new SendMessageCommand({
      QueueUrl: await target.intakeQueueUrl(),
      MessageBody: JSON.stringify({
        version: 1,
        kind: "cancel",
        executionRequestUrn: run.executionRequestUrn,
        reason: reason.slice(0, 500),
      }),
    }),
  );
  return { kind: "sent", ...ids };
}
