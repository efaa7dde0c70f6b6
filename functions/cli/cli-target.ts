import { join } from "node:path";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetQueueUrlCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { documentClient } from "../config/create-aws-deps.js";
import { readStageConfig, StageConfigError } from "../config/stages/stage-config.js";
import {
  isProcessAlive,
  LOCAL_AWS_ENV,
  type LocalModeState,
  localModeDir,
  PROJECT_ROOT,
  readLocalModeState,
  stateFilePath,
} from "../local/local-mode-state.js";
import { LOCAL_CONTAINER_NAME } from "../local/provision-local-stack.js";
import { UsageError } from "./cli-output.js";

/** What dhx talks to: a running local mode, a deployed stage, or just a table (AWS_ENDPOINT_URL for moto). */
export type CliTarget = {
  kind: "local" | "stage" | "table";
  /** For messages: "local mode", "stage prod", "table dhx-prod-executor". */
  label: string;
  tableName: string;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  logs: CloudWatchLogsClient;
  /** The intake queue's URL (submit, cancel, dlq redrive). */
  intakeQueueUrl(): Promise<string>;
  deadLetterQueueUrl(): Promise<string>;
  /** Local mode's files; undefined for a stage. */
  local?: LocalModeState;
  /** A stage's GMS, from its settings (submit --source). */
  gms?: { url: string; tokenSecretArn: string; region: string };
  /** Where a stage's task logs are (awslogs: <prefix>/<container>/<task id>). */
  runLogs: { logGroup: string; streamPrefix: string; containerName: string };
};

export const STAGES_DIR = join(PROJECT_ROOT, "functions", "config", "stages");

/**
 * --table (or DHX_TABLE_NAME) names only a table; --stage reads functions/config/stages/<stage>.yml for the region
 * and derives the names serverless.yml gives (dhx-<stage>-executor, -intake, -intake-dlq, /dhx-<stage>/runs);
 * without either, the local mode whose state is in DHX_LOCAL_DIR (default .local/local-mode).
 */
export function resolveTarget(
  options: { table?: string | undefined; stage?: string | undefined },
  env: Record<string, string | undefined>,
): CliTarget {
  if (options.table !== undefined && options.stage !== undefined) {
    throw new UsageError("pass --table or --stage, not both");
  }
  if (options.stage !== undefined) return stageTarget(options.stage);
  const table = options.table ?? (env.DHX_TABLE_NAME === "" ? undefined : env.DHX_TABLE_NAME);
  if (table !== undefined) {
    const clients = { dynamodb: new DynamoDBClient({}), sqs: new SQSClient({}), logs: new CloudWatchLogsClient({}) };
    const noQueue = () =>
      Promise.reject(
        new UsageError(`--table names only a table; this command needs the stage's queues: pass --stage STAGE`),
      );
    return {
      kind: "table",
      label: `table ${table}`,
      tableName: table,
      doc: documentClient(clients.dynamodb),
      sqs: clients.sqs,
      logs: clients.logs,
      intakeQueueUrl: noQueue,
      deadLetterQueueUrl: noQueue,
      // A stage's table is dhx-<stage>-executor and its run logs /dhx-<stage>/runs (serverless.yml).
      runLogs: {
        logGroup: `/${table.replace(/-executor$/, "")}/runs`,
        streamPrefix: "run",
        containerName: LOCAL_CONTAINER_NAME,
      },
    };
  }
  return localTarget(env);
}

function stageTarget(stage: string): CliTarget {
  let region: string;
  let gms: { url: string; tokenSecretArn: string };
  try {
    ({ region, gms } = readStageConfig(stage, STAGES_DIR));
  } catch (error) {
    if (error instanceof StageConfigError) throw new UsageError(`unknown stage: ${error.message}`);
    throw error;
  }
  const prefix = `dhx-${stage}`;
  const dynamodb = new DynamoDBClient({ region });
  const sqs = new SQSClient({ region });
  const queueUrl = (name: string) => async () => {
    try {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
      if (QueueUrl === undefined) throw new Error(`no URL for queue ${name}`);
      return QueueUrl;
    } catch (error) {
      if (isQueueMissing(error)) {
        throw new UsageError(`stage ${stage} has no queue ${name} in ${region}: is the stage deployed?`);
      }
      throw error;
    }
  };
  return {
    kind: "stage",
    label: `stage ${stage}`,
    tableName: `${prefix}-executor`,
    doc: documentClient(dynamodb),
    sqs,
    logs: new CloudWatchLogsClient({ region }),
    intakeQueueUrl: queueUrl(`${prefix}-intake`),
    deadLetterQueueUrl: queueUrl(`${prefix}-intake-dlq`),
    gms: { ...gms, region },
    runLogs: { logGroup: `/${prefix}/runs`, streamPrefix: "run", containerName: LOCAL_CONTAINER_NAME },
  };
}

function isQueueMissing(error: unknown): boolean {
  const name = (error as { name?: string }).name ?? "";
  return name === "QueueDoesNotExist" || name === "AWS.SimpleQueueService.NonExistentQueue";
}

function localTarget(env: Record<string, string | undefined>): CliTarget {
  const dir = localModeDir(env);
  const state = readLocalModeState(dir);
  if (state === undefined) {
    throw new UsageError(
      `no target: local mode is not running (no ${stateFilePath(dir)}); start it with "npm start", ` +
        "or pass --stage STAGE, or --table NAME (or set DHX_TABLE_NAME)",
    );
  }
  if (!isProcessAlive(state.pid)) {
    throw new UsageError(
      `local mode (pid ${state.pid}, started ${state.startedAt}) is no longer running; start it again with "npm start"`,
    );
  }
  const aws = {
    endpoint: state.endpoint,
    region: state.region,
    credentials: { accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY },
  };
  return {
    kind: "local",
    label: "local mode",
    tableName: state.tableName,
    doc: documentClient(new DynamoDBClient(aws)),
    sqs: new SQSClient(aws),
    logs: new CloudWatchLogsClient(aws),
    intakeQueueUrl: async () => state.intakeQueueUrl,
    deadLetterQueueUrl: async () => state.deadLetterQueueUrl,
    local: state,
    runLogs: { logGroup: `/dhx-${state.stage}/runs`, streamPrefix: "run", containerName: LOCAL_CONTAINER_NAME },
  };
}
