/**
 * npm run demo: the executor's main job on this machine, against moto. Six execution requests go onto the
 * intake queue; the dispatch handler takes them as the SQS trigger would, admits them to a pool and launches
 * what fits as (moto) Fargate tasks; a finished run releases its weight and the next waiting run starts.
 * Pass --keep to leave moto running afterwards for `npm run dhx`.
 */
import { randomUUID } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ECSClient, StopTaskCommand } from "@aws-sdk/client-ecs";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSEvent } from "aws-lambda";
import { LocalStatusLog } from "../adapters/local-status/local-status-log.js";
import { explainRun } from "../app/explain-run.js";
import { createExecutorDeps } from "../config/create-aws-deps.js";
import { runIdFor } from "../core/plan-run.js";
import { PoolSettings } from "../core/pool.js";
import { formatWeight } from "../core/weights.js";
import { createDispatchHandler } from "../handlers/dispatch-request.js";
import { createTaskStateChangeHandler } from "../handlers/task-state-change.js";
import { pinEcsTaskStatus, startMotoServer } from "../local/moto-server.js";
import { provisionLocalStack } from "../local/provision-local-stack.js";

const keep = process.argv.includes("--keep");
const say = (text = "") => process.stdout.write(`${text}\n`);

const RECIPE = [
  "source:",
  "  type: postgres",
  "  config:",
  "    host_port: warehouse.internal:5432",
  "    username: datahub",
  "    password: ${WAREHOUSE_PASSWORD}",
  "sink:",
  "  type: datahub-rest",
  "  config:",
  "    server: http://datahub-gms:8080",
].join("\n");

const REQUESTS: { name: string; extraEnv: Record<string, string> }[] = [
  { name: "orders (default weight)", extraEnv: {} },
  {
    name: "customers (0.25, 2 GiB)",
    extraEnv: { EXECUTOR_TASK_WEIGHT: "0.25", EXECUTOR_TASK_MEMORY_LIMIT: "2097152" },
  },
  { name: "events (0.5, 8 GiB)", extraEnv: { EXECUTOR_TASK_WEIGHT: "0.5", EXECUTOR_TASK_MEMORY_LIMIT: "8388608" } },
  { name: "lake (1.0, 30 GiB)", extraEnv: { EXECUTOR_TASK_WEIGHT: "1.0", EXECUTOR_TASK_MEMORY_LIMIT: "31457280" } },
  { name: "crm (default weight)", extraEnv: {} },
  { name: "bad weight (refused)", extraEnv: { EXECUTOR_TASK_WEIGHT: "1.5" } },
];

async function main(): Promise<void> {
  say("starting moto (the local AWS) on 127.0.0.1 ...");
  const moto = await startMotoServer();
  process.env.AWS_ENDPOINT_URL = moto.endpoint;
  process.env.AWS_REGION ??= "us-east-1";
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  try {
    await pinEcsTaskStatus(moto.endpoint);
    const clients = {
      dynamodb: new DynamoDBClient({}),
      ecs: new ECSClient({}),
      sqs: new SQSClient({}),
      ec2: new EC2Client({}),
      secrets: new SecretsManagerClient({}),
      logs: new CloudWatchLogsClient({}),
    };
    const stack = await provisionLocalStack(clients, { stage: "local", secrets: { WAREHOUSE_PASSWORD: randomUUID() } });
    // No GMS here: statuses DataHub would receive go to a local status log, printed at the end.
    const statusLog = new LocalStatusLog();
    const logger = new Logger({ serviceName: "dhx-demo", logLevel: "WARN" });
    const deps = createExecutorDeps(stack.config, clients, logger, statusLog);
    await deps.pools.create("demo", PoolSettings.parse({ description: "the demo pool", ingestionMaxWorkers: 4 }));
    say(
      `created table ${stack.config.tableName}, intake queue, DLQ, cluster and task definition; pool "demo" (4 workers)`,
    );

    const urns = REQUESTS.map(() => `urn:li:dataHubExecutionRequest:${randomUUID()}`);
    await clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: stack.intakeQueueUrl,
        Entries: REQUESTS.map((request, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify({
            version: 1,
            executionRequestUrn: urns[i],
            input: {
              task: "RUN_INGEST",
              args: { recipe: RECIPE, version: "1.7.0.17", extra_env_vars: JSON.stringify(request.extraEnv) },
              executorId: "demo",
              source: { type: "MANUAL_INGESTION_SOURCE" },
              requestedAt: Date.now(),
            },
          }),
        })),
      }),
    );
    say(`sent ${REQUESTS.length} execution requests to the intake queue\n`);

    // What Lambda's SQS trigger does: receive a batch, invoke, delete what did not fail.
    const dispatch = createDispatchHandler(deps);
    for (;;) {
      const { Messages = [] } = await clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: stack.intakeQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      if (Messages.length === 0) break;
      const event = {
        Records: Messages.map((m) => ({ messageId: m.MessageId, receiptHandle: m.ReceiptHandle, body: m.Body ?? "" })),
      } as SQSEvent;
      const { batchItemFailures } = await dispatch(event, {} as Context);
      const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
      const done = Messages.filter((m) => !failed.has(m.MessageId ?? ""));
      if (done.length > 0) {
        await clients.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: stack.intakeQueueUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    }

    const table = async () => {
      for (const [i, urn] of urns.entries()) {
        const explanation = await explainRun(deps, runIdFor(urn));
        const run = explanation?.run;
        const name = (REQUESTS[i]?.name ?? "").padEnd(26);
        if (run === undefined) continue;
        const size = run.fargate === undefined ? "" : `${run.fargate.cpu / 1024} vCPU/${run.fargate.memoryMiB} MiB`;
        const weight = run.weightMicro === undefined ? "" : formatWeight(run.weightMicro);
        const why = explanation?.wait?.text ?? run.outcomeReason ?? "";
        say(`  ${name} ${run.state.padEnd(9)} ${weight.padEnd(5)} ${size.padEnd(16)} ${why}`);
      }
      const { usedMicro } = await deps.runs.readCapacity("demo", "INGESTION");
      say(`  pool "demo": ${formatWeight(usedMicro)} of 1 in use\n`);
    };
    say("after dispatch:");
    await table();

    const handleEvent = createTaskStateChangeHandler(deps);
    for (const name of ["orders (default weight)", "customers (0.25, 2 GiB)", "events (0.5, 8 GiB)"]) {
      const i = REQUESTS.findIndex((r) => r.name === name);
      const run = await deps.runs.getRun(runIdFor(urns[i] ?? ""));
      if (run?.taskArn === undefined) continue;
      // moto emits no ECS events: stop the task and hand the handler the event EventBridge would deliver.
      await clients.ecs.send(new StopTaskCommand({ cluster: stack.config.launch.cluster, task: run.taskArn }));
      await handleEvent({
        source: "aws.ecs",
        "detail-type": "ECS Task State Change",
        detail: {
          taskArn: run.taskArn,
          clusterArn: stack.config.launch.cluster,
          lastStatus: "STOPPED",
          startedBy: run.launch?.token,
          stopCode: "EssentialContainerExited",
          version: 5,
          containers: [{ name: "ingestion", exitCode: 0 }],
        },
      });
      say(`"${name}" finished with exit code 0:`);
      await table();
    }

    say("what DataHub would have been told (the status log that stands in for GMS here):");
    for (const line of statusLog.lines) {
      if (line.kind !== "execution-result") continue;
      const name = REQUESTS[urns.indexOf(line.executionRequestUrn)]?.name ?? line.executionRequestUrn;
      say(`  ${name.padEnd(26)} ${line.value.status.padEnd(9)} ${line.value.report.split("\n")[1] ?? ""}`);
    }
    say();

    if (keep) {
      say(`moto stays up at ${moto.endpoint}. In another shell:`);
      say(
        `  AWS_ENDPOINT_URL=${moto.endpoint} AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \\`,
      );
      say(`    npm run dhx -- --table ${stack.config.tableName} runs show ${urns[4]}`);
      say("Ctrl-C stops it.");
      await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
    } else {
      say("Look further: npm run demo -- --keep leaves moto running for `npm run dhx`; docs/ has the design.");
    }
  } finally {
    await moto.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
