import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SecretsManagerSecretReader } from "../../functions/adapters/secrets-manager/secrets-manager-secret-reader.js";
import { documentClient } from "../../functions/config/create-aws-deps.js";
import { TaskExitCode } from "../../functions/core/task-exit.js";
import { CancelSignal } from "./cancel-signal.js";
import { runTask } from "./run-task.js";
import { loadTaskConfig } from "./task-config.js";

const logger = new Logger({ serviceName: "datahub-serverless-executor-task" });
const cancel = new CancelSignal();
// ECS StopTask sends SIGTERM; SIGINT is the same wish from a terminal. `on`, not `once`: a second signal must
// not fall back to the default action and kill the entrypoint before it has stopped the group and reported.
process.on("SIGTERM", () => cancel.request());
process.on("SIGINT", () => cancel.request());

let code: TaskExitCode;
try {
  const config = loadTaskConfig(process.env);
  logger.appendPersistentKeys({
    runId: config.runId,
    executionRequestUrn: config.executionRequestUrn,
    pool: config.pool,
    launchAttempt: config.launchAttempt,
    stage: config.stage,
  });
  code = await runTask({
    config,
    doc: documentClient(new DynamoDBClient({})),
    secretsManager: new SecretsManagerSecretReader(new SecretsManagerClient({}), config.secretPrefix),
    environment: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    logger,
    cancel,
    now: Date.now,
  });
} catch (error) {
  logger.error("task could not start", { error: error instanceof Error ? error.message : String(error) });
  code = TaskExitCode.SETUP_FAILED;
}
// Pipes to stdout are synchronous on Linux, so nothing written is lost by exiting now.
process.exit(code);
