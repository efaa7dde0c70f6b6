import { Logger } from "@aws-lambda-powertools/logger";
import { type AttributeValue, ScanCommand } from "@aws-sdk/client-dynamodb";
import { StopTaskCommand } from "@aws-sdk/client-ecs";

import type { Context, SQSEvent } from "aws-lambda";
import { DynamoDbPoolStore } from "../../functions/adapters/dynamodb/dynamodb-pool-store.js";
import type { ExecutorDeps } from "../../functions/app/executor-deps.js";
import { createExecutorDeps, documentClient } from "../../functions/config/create-aws-deps.js";
import { PoolSettings } from "../../functions/core/pool.js";
import type { RunRecord } from "../../functions/core/run-record.js";
import { parseLaunchToken } from "../../functions/core/task-state-change-event.js";
import { createDispatchHandler } from "../../functions/handlers/dispatch-request.js";
import { createReconcileHandler } from "../../functions/handlers/reconcile.js";
import { createTaskStateChangeHandler } from "../../functions/handlers/task-state-change.js";
import { type MotoServer, pinEcsTaskStatus, startMotoServer } from "../../functions/local/moto-server.js";
import {
  createLocalStackClients,
  type LocalStack,
  type LocalStackClients,
  provisionLocalStack,
} from "../../functions/local/provision-local-stack.js";
import { type StubGms, startStubGms } from "../../test/support/stub-gms.js";
import { AwsCallCounter, itemBytes, keyOf } from "./aws-call-counter.js";

export const BENCH_RECIPE = [
  "source:",
  "  type: snowflake",
  "  config:",
  "    account_id: acme-4411",
  "    username: datahub_reader",
  "    password: ${SNOWFLAKE_PASSWORD}",
  "sink:",
  "  type: datahub-rest",
  "  config:",
  "    server: http://datahub-gms:8080",
].join("\n");

/** A v1 message as DataHub would send it (docs/message-format.md). */
export function benchMessage(id: string, pool: string, extraEnv: Record<string, string> = {}): string {
  return JSON.stringify({
    version: 1,
    executionRequestUrn: `urn:li:dataHubExecutionRequest:${id}`,
    input: {
      task: "RUN_INGEST",
      args: { recipe: BENCH_RECIPE, version: "1.7.0.17", extra_env_vars: JSON.stringify(extraEnv) },
      executorId: pool,
      source: { type: "SCHEDULED_INGESTION_SOURCE", ingestionSource: `urn:li:dataHubIngestionSource:${pool}` },
      requestedAt: 1_764_300_000_000,
      actorUrn: "urn:li:corpuser:datahub",
    },
  });
}

export function sqsEvent(bodies: { id: string; body: string }[]): SQSEvent {
  return {
    Records: bodies.map(({ id, body }) => ({
      messageId: id,
      receiptHandle: `handle-${id}`,
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "0",
        SenderId: "bench",
        ApproximateFirstReceiveTimestamp: "0",
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:dhx-bench-intake",
      awsRegion: "us-east-1",
    })),
  };
}

export const LAMBDA_CONTEXT = {} as Context;

export type BenchClients = LocalStackClients;

const GMS_TOKEN = "bench-gms-token";

/**
 * One moto and one stub GMS (test/support/stub-gms.ts, the lead's) for the whole bench; each section gets a
 * fresh stack through `freshStack`. The executor reports statuses to the stub, which records every request.
 */
export class LocalExecutor {
  readonly counter = new AwsCallCounter();
  private constructor(
    readonly moto: MotoServer,
    readonly gms: StubGms,
    readonly clients: BenchClients,
  ) {}

  static async start(): Promise<LocalExecutor> {
    const moto = await startMotoServer();
    process.env.AWS_ENDPOINT_URL = moto.endpoint;
    process.env.AWS_REGION = "us-east-1";
    process.env.AWS_ACCESS_KEY_ID = "bench";
    process.env.AWS_SECRET_ACCESS_KEY = "bench";
    const gms = await startStubGms();
    gms.requireToken(GMS_TOKEN);
    const clients: BenchClients = createLocalStackClients();
    const executor = new LocalExecutor(moto, gms, clients);
    executor.counter.attach(clients.dynamodb);
    executor.counter.attach(clients.ecs);
    executor.counter.attach(clients.sqs);
    executor.counter.attach(clients.logs);
    executor.counter.attach(clients.secrets);
    return executor;
  }

  /** Empties moto and provisions the executor's resources and the given pools; counting is off until `count()`. */
  async freshStack(pools: Record<string, Partial<PoolSettings>>): Promise<BenchStack> {
    this.counter.enabled = false;
    await this.moto.reset();
    await pinEcsTaskStatus(this.moto.endpoint);
    const stack = await provisionLocalStack(this.clients, {
      stage: "bench",
      secrets: { SNOWFLAKE_PASSWORD: "x" },
      gms: { url: this.gms.url, token: GMS_TOKEN },
    });
    const doc = documentClient(this.clients.dynamodb);
    const store = new DynamoDbPoolStore(doc, stack.config.tableName);
    for (const [id, settings] of Object.entries(pools)) await store.create(id, PoolSettings.parse(settings));
    const deps = createExecutorDeps(
      stack.config,
      this.clients,
      new Logger({ serviceName: "dhx-bench", logLevel: "SILENT" }),
    );
    this.counter.take();
    return new BenchStack(this, stack, deps);
  }

  async stop(): Promise<void> {
    await this.gms.close();
    await this.moto.stop();
  }
}

export class BenchStack {
  readonly dispatch: ReturnType<typeof createDispatchHandler>;
  readonly taskStateChange: ReturnType<typeof createTaskStateChangeHandler>;
  readonly reconcile: ReturnType<typeof createReconcileHandler>;

  constructor(
    readonly executor: LocalExecutor,
    readonly stack: LocalStack,
    readonly deps: ExecutorDeps,
  ) {
    this.dispatch = createDispatchHandler(deps);
    this.taskStateChange = createTaskStateChangeHandler(deps);
    this.reconcile = createReconcileHandler(deps);
  }

  /** Calls `listener` with the run id of every RunTask the executor makes (from its startedBy token). */
  onLaunch(listener: (runId: string, atMs: number) => void): () => void {
    return this.executor.counter.onRequest("ECS", "RunTask", (atMs, input) => {
      const token = parseLaunchToken((input as { startedBy?: string }).startedBy);
      if (token !== undefined) listener(token.runId, atMs);
    });
  }

  /** Runs `work` without counting its AWS calls: the harness's own reads are not the executor's. */
  async uncounted<T>(work: () => Promise<T>): Promise<T> {
    const counting = this.executor.counter.enabled;
    this.executor.counter.enabled = false;
    try {
      return await work();
    } finally {
      this.executor.counter.enabled = counting;
    }
  }

  /** What ECS does when the task's container exits: the task stops (not an executor call, so not counted). */
  async stopTask(run: RunRecord): Promise<void> {
    const counting = this.executor.counter.enabled;
    this.executor.counter.enabled = false;
    try {
      await this.executor.clients.ecs.send(
        new StopTaskCommand({ cluster: this.stack.config.launch.cluster, task: run.taskArn, reason: "bench" }),
      );
    } finally {
      this.executor.counter.enabled = counting;
    }
  }

  /** The EventBridge event ECS emits for a task, in the shape aws-facts.md gives. */
  taskEvent(run: RunRecord, lastStatus: string, version: number, exitCode?: number) {
    return {
      version: "0",
      id: `${run.runId}-${version}`,
      source: "aws.ecs",
      "detail-type": "ECS Task State Change",
      account: "123456789012",
      region: "us-east-1",
      time: new Date().toISOString(),
      resources: [run.taskArn],
      detail: {
        taskArn: run.taskArn,
        clusterArn: this.stack.config.launch.cluster,
        lastStatus,
        desiredStatus: lastStatus === "STOPPED" || lastStatus === "DEPROVISIONING" ? "STOPPED" : "RUNNING",
        startedBy: run.launch?.token,
        version,
        ...(lastStatus === "STOPPED" ? { stopCode: "EssentialContainerExited" } : {}),
        containers: [{ name: "ingestion", lastStatus, ...(exitCode === undefined ? {} : { exitCode }) }],
      },
    };
  }

  /** Sizes of every item now in the table, by key, for request-unit estimates. */
  async itemSizes(): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    let start: Record<string, AttributeValue> | undefined;
    const counting = this.executor.counter.enabled;
    this.executor.counter.enabled = false;
    try {
      do {
        const page = await this.executor.clients.dynamodb.send(
          new ScanCommand({ TableName: this.stack.config.tableName, ExclusiveStartKey: start }),
        );
        for (const item of page.Items ?? []) sizes.set(keyOf(item), itemBytes(item));
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
    } finally {
      this.executor.counter.enabled = counting;
    }
    return sizes;
  }
}
