import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { DescribeTasksCommand, ListTasksCommand, StopTaskCommand, type Task } from "@aws-sdk/client-ecs";
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { inject, onTestFinished } from "vitest";
import { DynamoDbPoolStore } from "../../functions/adapters/dynamodb/dynamodb-pool-store.js";
import type { ExecutorDeps } from "../../functions/app/executor-deps.js";
import type { TaskLauncher } from "../../functions/app/ports.js";
import { createExecutorDeps, documentClient } from "../../functions/config/create-aws-deps.js";
import type { PoolSettings } from "../../functions/core/pool.js";
import { PoolSettings as PoolSettingsSchema } from "../../functions/core/pool.js";
import type { TaskStateChangeEvent } from "../../functions/core/task-state-change-event.js";
import { createDispatchHandler } from "../../functions/handlers/dispatch-request.js";
import { createTaskStateChangeHandler } from "../../functions/handlers/task-state-change.js";
import { pinEcsTaskStatus } from "../../functions/local/moto-server.js";
import {
  createLocalStackClients,
  type LocalStack,
  provisionLocalStack,
} from "../../functions/local/provision-local-stack.js";
import { startStubGms } from "./stub-gms.js";

export const CANARY_SECRET_VALUE = "canary-5ecret-value-7f3a9d";
export const GMS_TOKEN = "stub-gms-token-9d2e";

export type Fixture = Awaited<ReturnType<typeof createFixture>>;

/** A fresh moto, the executor's resources in it, and the real adapters wired to them. */
export async function createFixture(
  options: { pools?: Record<string, Partial<PoolSettings>>; clock?: () => number } = {},
) {
  const endpoint = inject("motoEndpoint");
  await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
  await pinEcsTaskStatus(endpoint);
  const clients = createLocalStackClients();
  // A stub GMS per test, strict about DataHub's shapes; the executor reaches it with a token from Secrets Manager.
  const gms = await startStubGms();
  onTestFinished(() => gms.close());
  gms.requireToken(GMS_TOKEN);
  const stack: LocalStack = await provisionLocalStack(clients, {
    stage: "test",
    secrets: { SNOWFLAKE_PASSWORD: CANARY_SECRET_VALUE },
    gms: { url: gms.url, token: GMS_TOKEN },
  });
  const doc = documentClient(clients.dynamodb);
  const pools = new DynamoDbPoolStore(doc, stack.config.tableName);
  for (const [id, settings] of Object.entries(options.pools ?? { main: {} })) {
    await pools.create(id, PoolSettingsSchema.parse(settings));
  }
  const logLines = captureConsole();
  const logger = new Logger({ serviceName: "test", logLevel: "DEBUG" });
  const deps: ExecutorDeps = {
    ...createExecutorDeps(stack.config, clients, logger),
    ...(options.clock === undefined ? {} : { now: options.clock }),
  };
  const dispatch = createDispatchHandler(deps);

  return {
    endpoint,
    gms,
    clients,
    stack,
    doc,
    deps,
    logLines,
    /** Stops the run's ECS task in moto and builds the STOPPED event ECS would send (moto sends none). */
    async stoppedEvent(runId: string, detail: Partial<TaskEventDetail> = {}): Promise<TaskStateChangeEvent> {
      const run = await deps.runs.getRun(runId);
      if (run?.taskArn === undefined || run.launch === undefined) throw new Error(`run ${runId} has no task`);
      await clients.ecs.send(new StopTaskCommand({ cluster: stack.config.launch.cluster, task: run.taskArn }));
      return taskEvent(stack.config.launch.cluster, run.taskArn, run.launch.token, {
        lastStatus: "STOPPED",
        stopCode: "EssentialContainerExited",
        stoppedReason: "Essential container in task exited",
        version: 5,
        containers: [{ name: "ingestion", exitCode: 0, lastStatus: "STOPPED" }],
        ...detail,
      });
    },
    async runningEvent(runId: string, detail: Partial<TaskEventDetail> = {}): Promise<TaskStateChangeEvent> {
      const run = await deps.runs.getRun(runId);
      if (run?.taskArn === undefined || run.launch === undefined) throw new Error(`run ${runId} has no task`);
      return taskEvent(stack.config.launch.cluster, run.taskArn, run.launch.token, {
        lastStatus: "RUNNING",
        startedAt: new Date(deps.now()).toISOString(),
        version: 3,
        containers: [{ name: "ingestion", lastStatus: "RUNNING" }],
        ...detail,
      });
    },
    /** Ends a run the way production does: its task stops with exit 0 and the STOPPED event reaches the handler. */
    async finishTask(runId: string, withDeps: ExecutorDeps = deps) {
      const outcome = await createTaskStateChangeHandler(withDeps)(await this.stoppedEvent(runId));
      if (outcome.kind !== "stopped")
        throw new Error(`the STOPPED event of ${runId} was ignored: ${JSON.stringify(outcome)}`);
      return outcome.result;
    },
    /** The real ECS launcher with some of its methods replaced (a class instance cannot be spread). */
    launcherWith(overrides: Partial<TaskLauncher>): TaskLauncher {
      const real = deps.launcher;
      return {
        findTask: overrides.findTask ?? ((token) => real.findTask(token)),
        runTask: overrides.runTask ?? ((run) => real.runTask(run)),
        stopTask: overrides.stopTask ?? ((arn, reason) => real.stopTask(arn, reason)),
        describeTasks: overrides.describeTasks ?? ((arns) => real.describeTasks(arns)),
      };
    },
    /** Invokes the dispatch handler as the SQS trigger would, one batch. */
    async dispatch(bodies: string[], ids?: string[]) {
      const records = bodies.map((body, i) => sqsRecord(body, ids?.[i] ?? randomUUID()));
      return dispatch({ Records: records } as SQSEvent, {} as Context);
    },
    async scanTable(): Promise<Record<string, unknown>[]> {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(new ScanCommand({ TableName: stack.config.tableName, ExclusiveStartKey: start }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
      return items;
    },
    async listTasks(): Promise<Task[]> {
      const arns: string[] = [];
      for (const desiredStatus of ["RUNNING", "STOPPED"] as const) {
        const page = await clients.ecs.send(
          new ListTasksCommand({ cluster: stack.config.launch.cluster, desiredStatus }),
        );
        arns.push(...(page.taskArns ?? []));
      }
      const tasks: Task[] = [];
      for (let i = 0; i < arns.length; i += 100) {
        const page = await clients.ecs.send(
          new DescribeTasksCommand({
            cluster: stack.config.launch.cluster,
            tasks: arns.slice(i, i + 100),
            include: ["TAGS"],
          }),
        );
        tasks.push(...(page.tasks ?? []));
      }
      return tasks;
    },
    async drainDeadLetters(): Promise<Message[]> {
      const all: Message[] = [];
      for (;;) {
        const { Messages = [] } = await clients.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.config.deadLetterQueueUrl,
            MaxNumberOfMessages: 10,
            MessageAttributeNames: ["All"],
            WaitTimeSeconds: 0,
          }),
        );
        if (Messages.length === 0) return all;
        all.push(...Messages);
        await clients.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: stack.config.deadLetterQueueUrl,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    },
  };
}

const captured: string[] = [];
let capturing = false;

/**
 * With POWERTOOLS_DEV set (vitest.config.ts), Powertools Logger writes through the global console; keep every
 * line, so tests can scan what would reach CloudWatch for secrets. Lines of earlier fixtures are dropped.
 */
function captureConsole(): string[] {
  captured.length = 0;
  if (!capturing) {
    capturing = true;
    for (const method of ["info", "warn", "error", "debug", "log", "trace"] as const) {
      console[method] = (...args: unknown[]) => {
        captured.push(args.map(String).join(" "));
      };
    }
  }
  return captured;
}

type TaskEventDetail = TaskStateChangeEvent["detail"];

/** An EventBridge "ECS Task State Change" event as aws-facts.md describes it. */
export function taskEvent(
  clusterArn: string,
  taskArn: string,
  startedBy: string,
  detail: Partial<TaskEventDetail> & Pick<TaskEventDetail, "lastStatus" | "version">,
): TaskStateChangeEvent {
  return {
    source: "aws.ecs",
    "detail-type": "ECS Task State Change",
    detail: {
      taskArn,
      clusterArn,
      startedBy,
      desiredStatus: detail.lastStatus === "STOPPED" ? "STOPPED" : "RUNNING",
      containers: [],
      ...detail,
    },
  };
}

export function sqsRecord(body: string, messageId: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: String(Date.now()),
      SenderId: "test",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:dhx-test-intake",
    awsRegion: "us-east-1",
  };
}

export const SAMPLE_RECIPE = [
  "source:",
  "  type: snowflake",
  "  config:",
  "    account_id: acme-unique-account-4411",
  "    username: datahub_reader",
  "    password: ${SNOWFLAKE_PASSWORD}",
  "sink:",
  "  type: datahub-rest",
  "  config:",
  "    server: http://gms.invalid:8080",
].join("\n");

/** A valid v1 message; `extraEnv` becomes extra_env_vars, as GMS would send it (a JSON string). */
export function runMessage(
  options: {
    id?: string;
    pool?: string;
    executorId?: string;
    priority?: number;
    task?: string;
    recipe?: string;
    extraEnv?: Record<string, string>;
  } = {},
): string {
  const id = options.id ?? randomUUID();
  return JSON.stringify({
    version: 1,
    executionRequestUrn: `urn:li:dataHubExecutionRequest:${id}`,
    ...(options.pool === undefined ? {} : { pool: options.pool }),
    ...(options.priority === undefined ? {} : { priority: options.priority }),
    input: {
      task: options.task ?? "RUN_INGEST",
      args: {
        recipe: options.recipe ?? SAMPLE_RECIPE,
        version: "1.7.0.17",
        debug_mode: "false",
        ...(options.extraEnv === undefined ? {} : { extra_env_vars: JSON.stringify(options.extraEnv) }),
      },
      executorId: options.executorId ?? "main",
      source: { type: "MANUAL_INGESTION_SOURCE", ingestionSource: "urn:li:dataHubIngestionSource:snowflake-prod" },
      requestedAt: 1_764_300_000_000,
      actorUrn: "urn:li:corpuser:datahub",
    },
  });
}

export class InjectedCrash extends Error {
  override readonly name = "InjectedCrash" as const;
}

/** The same deps, except that ending a run commits and then "crashes" (throws), as a dying Lambda would. */
export function crashingAfterFinish(deps: ExecutorDeps): ExecutorDeps {
  const runs = deps.runs;
  return {
    ...deps,
    runs: Object.assign(Object.create(runs), {
      finish: async (...args: Parameters<typeof runs.finish>) => {
        await runs.finish(...args);
        throw new InjectedCrash("died after the release");
      },
    }),
  };
}
