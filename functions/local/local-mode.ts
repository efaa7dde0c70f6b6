import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSEvent } from "aws-lambda";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { buildEntrypoint } from "../../task-image/build-entrypoint.js";
import { LocalStatusLog } from "../adapters/local-status/local-status-log.js";
import type { ExecutorDeps } from "../app/executor-deps.js";
import { pollIntake as pollGmsIntake } from "../app/intake-poll.js";
import { createExecutorDeps } from "../config/create-aws-deps.js";
import {
  createIntakeDeps,
  INTAKE_CLAIM_LEASE_MS,
  INTAKE_MAX_PAGES,
  INTAKE_PAGE_SIZE,
} from "../config/intake-config.js";
import { ConfigError } from "../core/errors.js";
import { PoolId, PoolSettings } from "../core/pool.js";
import type { TaskStateChangeEvent } from "../core/task-state-change-event.js";
import { createDispatchHandler } from "../handlers/dispatch-request.js";
import { createReconcileHandler } from "../handlers/reconcile.js";
import { createTaskStateChangeHandler } from "../handlers/task-state-change.js";
import { LOCAL_AWS_ENV, type LocalModeState, PROJECT_ROOT, writeLocalModeState } from "./local-mode-state.js";
import { LocalRunLogs } from "./local-run-logs.js";
import { LocalTaskLauncher } from "./local-task-launcher.js";
import { type MotoServer, startMotoServer } from "./moto-server.js";
import { createLocalStackClients, provisionLocalStack } from "./provision-local-stack.js";

export const DEFAULT_LOCAL_CONFIG = join(PROJECT_ROOT, "functions", "local", "local-mode.yml");
export const SAMPLE_RECIPE = join(PROJECT_ROOT, "functions", "local", "sample", "sample-recipe.yml");
const VENV_DATAHUB = join(PROJECT_ROOT, ".venv", "bin", "datahub");
const REQUIREMENTS = join(PROJECT_ROOT, "test", "support", "requirements.txt");

const LocalModeConfig = z.object({
  stage: z.string().regex(/^[a-z][a-z0-9-]{0,20}$/, "a stage is lower-case letters, digits and '-'"),
  pools: z.array(PoolSettings.partial().extend({ id: PoolId })).min(1, "local mode needs at least one pool"),
  reconcileIntervalSeconds: z.number().positive().max(3600),
  /** With a GMS: how often the intake asks it for new execution requests of local mode's pools. */
  intakePollIntervalSeconds: z.number().positive().max(3600),
  /** With a GMS: how far back the intake looks for requests (on AWS: DHX_INTAKE_LOOKBACK_MINUTES). */
  intakeLookbackMinutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60),
  secrets: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
});
export type LocalModeConfig = z.infer<typeof LocalModeConfig>;

export function loadLocalModeConfig(path: string): LocalModeConfig {
  const parsed = LocalModeConfig.safeParse(parseYaml(readFileSync(path, "utf8")));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`local mode config ${path}: ${issue?.path.join(".")}: ${issue?.message}`);
  }
  return parsed.data;
}

/** The DataHub CLI version the project's venv has (pinned in test/support/requirements.txt): the "image's". */
export function venvCliVersion(): string {
  const match = /^acryl-datahub(?:\[[^\]]*\])?==(\S+)/m.exec(readFileSync(REQUIREMENTS, "utf8"));
  if (match?.[1] === undefined) throw new ConfigError(`no acryl-datahub pin in ${REQUIREMENTS}`);
  return match[1];
}

export type LocalModeOptions = {
  /** Where local mode keeps its state, logs and bundle. */
  dir: string;
  config: LocalModeConfig;
  /** Statuses go to this GMS when given (DATAHUB_GMS_URL, DATAHUB_GMS_TOKEN), else to the local status log. */
  gms?: { url: string; token: string };
  logger?: Logger;
};

export type LocalMode = {
  state: LocalModeState;
  deps: ExecutorDeps;
  launcher: LocalTaskLauncher;
  /** Stops the loops, the tasks still going, then moto. */
  stop(): Promise<void>;
};

/**
 * The whole executor on this machine: moto as the AWS, the stage's resources in it, the three handlers in this
 * process (dispatch fed by an SQS long poll, task-state-change fed by the local launcher's events, reconcile on
 * a timer) and the task image's entrypoint as a child process per run instead of a Fargate task.
 */
export async function startLocalMode(options: LocalModeOptions): Promise<LocalMode> {
  const { dir, config } = options;
  mkdirSync(dir, { recursive: true });
  const logDir = join(dir, "logs");
  // A new moto knows none of the runs of an earlier start: their logs and statuses would only mislead.
  rmSync(logDir, { recursive: true, force: true });
  rmSync(join(dir, "status-log.jsonl"), { force: true });
  const entrypoint = await buildEntrypoint(join(dir, "entrypoint.mjs"));
  const moto: MotoServer = await startMotoServer({ ownProcessGroup: true });
  try {
    const aws = {
      endpoint: moto.endpoint,
      region: LOCAL_AWS_ENV.AWS_REGION,
      credentials: {
        accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID,
        secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY,
      },
    };
    const clients = createLocalStackClients(aws);
    const stack = await provisionLocalStack(clients, {
      stage: config.stage,
      secrets: config.secrets,
      ...(options.gms === undefined ? {} : { gms: options.gms }),
    });
    const statusLogPath = options.gms === undefined ? join(dir, "status-log.jsonl") : undefined;
    const logger = options.logger ?? new Logger({ serviceName: "dhx-local", logLevel: "WARN" });

    const events = new EventQueue(logger);
    const launcher = new LocalTaskLauncher(
      {
        clusterArn: stack.config.launch.cluster,
        containerName: stack.config.launch.containerName,
        entrypoint,
        logDir,
        cwd: PROJECT_ROOT,
        environment: taskEnvironment(dir, moto.endpoint, stack.config.stage, stack.config.tableName),
      },
      (event) => events.push(event),
    );
    const deps: ExecutorDeps = {
      ...createExecutorDeps(
        stack.config,
        clients,
        logger,
        statusLogPath === undefined ? undefined : new LocalStatusLog(statusLogPath),
      ),
      launcher,
      runLogs: new LocalRunLogs(launcher),
    };
    for (const [i, { id, ...settings }] of config.pools.entries()) {
      await deps.pools.create(id, PoolSettings.parse(settings));
      if (i === 0) await deps.pools.setDefault(id);
    }
    const taskStateChange = createTaskStateChangeHandler(deps);
    events.handle = (event) => taskStateChange(event);
    const reconcile = createReconcileHandler(deps);
    const dispatch = createDispatchHandler(deps);

    const state: LocalModeState = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      stage: stack.config.stage,
      endpoint: moto.endpoint,
      region: aws.region,
      tableName: stack.config.tableName,
      intakeQueueUrl: stack.intakeQueueUrl,
      deadLetterQueueUrl: stack.config.deadLetterQueueUrl,
      clusterArn: stack.config.launch.cluster,
      ...(statusLogPath === undefined ? {} : { statusLogPath }),
      ...(options.gms === undefined ? {} : { gmsUrl: options.gms.url }),
      logDir,
    };
    writeLocalModeState(dir, state);

    let stopping = false;
    const intake = pollIntake(clients.sqs, stack.intakeQueueUrl, dispatch, () => stopping, logger);
    // One pass at a time, as the scheduled Lambda's reserved concurrency of one keeps it on AWS.
    let reconciling: Promise<unknown> | undefined;
    const reconcileTimer = setInterval(() => {
      if (reconciling !== undefined) return;
      reconciling = reconcile()
        .catch((error: unknown) => logger.error("reconcile pass failed", { error: String(error) }))
        .finally(() => {
          reconciling = undefined;
        });
    }, config.reconcileIntervalSeconds * 1000);

    // With a GMS, the intake Lambda's polls too: DataHub's "Run" (or dhx submit --source) reaches local mode.
    let gmsPolling: Promise<unknown> | undefined;
    let gmsTimer: NodeJS.Timeout | undefined;
    if (stack.config.gms !== undefined) {
      const intakeDeps = createIntakeDeps(
        {
          stage: stack.config.stage,
          tableName: stack.config.tableName,
          intakeQueueUrl: stack.intakeQueueUrl,
          gms: stack.config.gms,
          settings: {
            lookbackMs: config.intakeLookbackMinutes * 60_000,
            pageSize: INTAKE_PAGE_SIZE,
            maxPages: INTAKE_MAX_PAGES,
            claimLeaseMs: INTAKE_CLAIM_LEASE_MS,
          },
        },
        clients,
        logger,
      );
      const poll = () => {
        if (gmsPolling !== undefined) return;
        gmsPolling = pollGmsIntake(intakeDeps)
          .catch((error: unknown) => logger.error("GMS intake poll failed", { error: String(error) }))
          .finally(() => {
            gmsPolling = undefined;
          });
      };
      poll();
      gmsTimer = setInterval(poll, config.intakePollIntervalSeconds * 1000);
    }

    return {
      state,
      deps,
      launcher,
      stop: async () => {
        stopping = true;
        clearInterval(reconcileTimer);
        if (gmsTimer !== undefined) clearInterval(gmsTimer);
        await intake;
        await reconciling;
        await gmsPolling;
        await launcher.stopAll("dhx: local mode is stopping");
        await events.drained();
        await launcher.stopAll("dhx: local mode is stopping");
        await moto.stop();
      },
    };
  } catch (error) {
    await moto.stop();
    throw error;
  }
}

/** What the task definition and the image set on AWS; the ids come per run from the launcher. */
function taskEnvironment(dir: string, endpoint: string, stage: string, tableName: string): Record<string, string> {
  const home = join(dir, "home");
  const secretsDir = join(dir, "file-secrets");
  const cliCache = join(dir, "cli-cache");
  for (const d of [home, secretsDir, cliCache]) mkdirSync(d, { recursive: true });
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    // A home of its own, so the CLI's files stay out of the user's.
    HOME: home,
    AWS_ENDPOINT_URL: endpoint,
    ...LOCAL_AWS_ENV,
    DATAHUB_TELEMETRY_ENABLED: "false",
    // Not the run's concern: the SDK's notice that its later versions will need Node 22.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    DHX_STAGE: stage,
    DHX_TABLE_NAME: tableName,
    // provisionLocalStack names stage secrets dhx-<stage>/<NAME>.
    DHX_SECRET_PREFIX: `dhx-${stage}/`,
    DATAHUB_EXECUTOR_FILE_SECRET_BASEDIR: secretsDir,
    DHX_DATAHUB_CLI: VENV_DATAHUB,
    DHX_DATAHUB_CLI_VERSION: venvCliVersion(),
    DHX_CLI_CACHE_DIR: cliCache,
    // Short enough that stopping local mode is quick; ECS allows the task 120 s.
    DHX_CANCEL_GRACE_SECONDS: "10",
  };
}

/** What Lambda's SQS trigger does: receive a batch, invoke, delete what did not fail. */
async function pollIntake(
  sqs: SQSClient,
  queueUrl: string,
  dispatch: ReturnType<typeof createDispatchHandler>,
  stopping: () => boolean,
  logger: Logger,
): Promise<void> {
  while (!stopping()) {
    try {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      if (Messages.length === 0) continue;
      const event = {
        Records: Messages.map((m) => ({ messageId: m.MessageId, receiptHandle: m.ReceiptHandle, body: m.Body ?? "" })),
      } as SQSEvent;
      const { batchItemFailures } = await dispatch(event, {} as Context);
      const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
      const done = Messages.filter((m) => !failed.has(m.MessageId ?? ""));
      if (done.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    } catch (error) {
      if (stopping()) return;
      logger.error("intake poll failed", { error: String(error) });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/**
 * The launcher's events, handled one after another as EventBridge would deliver them to the task-state-change
 * Lambda. A failed event is retried by nobody here; the reconciler finishes that run, as on AWS.
 */
class EventQueue {
  handle: (event: TaskStateChangeEvent) => Promise<unknown> = async () => undefined;
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly logger: Logger) {}

  push(event: TaskStateChangeEvent): void {
    this.tail = this.tail.then(async () => {
      try {
        await this.handle(event);
      } catch (error) {
        this.logger.error("task state change failed", { taskArn: event.detail.taskArn, error: String(error) });
      }
    });
  }

  async drained(): Promise<void> {
    let seen: Promise<void> | undefined;
    while (seen !== this.tail) {
      seen = this.tail;
      await seen;
    }
  }
}
