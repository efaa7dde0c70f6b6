import { Logger } from "@aws-lambda-powertools/logger";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ECSClient } from "@aws-sdk/client-ecs";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { CloudWatchRunLogs } from "../adapters/cloudwatch-logs/cloudwatch-run-logs.js";
import { DynamoDbPoolStore } from "../adapters/dynamodb/dynamodb-pool-store.js";
import { DynamoDbRunStore } from "../adapters/dynamodb/dynamodb-run-store.js";
import { DynamoDbStatusOutbox } from "../adapters/dynamodb/dynamodb-status-outbox.js";
import { EcsTaskLauncher } from "../adapters/ecs/ecs-task-launcher.js";
import { GmsClient } from "../adapters/gms/gms-client.js";
import { createGmsTokenProvider } from "../adapters/gms/gms-token-provider.js";
import { SecretsManagerSecretReader } from "../adapters/secrets-manager/secrets-manager-secret-reader.js";
import { SqsDeadLetterQueue } from "../adapters/sqs/sqs-dead-letter-queue.js";
import type { ExecutorDeps } from "../app/executor-deps.js";
import type { DataHubStatusApi } from "../app/ports.js";
import { ConfigError } from "../core/errors.js";
import type { ExecutorConfig } from "./executor-config.js";

export type AwsClients = {
  dynamodb: DynamoDBClient;
  ecs: ECSClient;
  sqs: SQSClient;
  secrets: SecretsManagerClient;
  logs: CloudWatchLogsClient;
};

/** Clients are made once per container; AWS_ENDPOINT_URL points them at moto locally. */
export function createAwsClients(): AwsClients {
  return {
    dynamodb: new DynamoDBClient({}),
    ecs: new ECSClient({}),
    sqs: new SQSClient({}),
    secrets: new SecretsManagerClient({}),
    logs: new CloudWatchLogsClient({}),
  };
}

export function documentClient(dynamodb: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(dynamodb, {
    // convertClassInstanceToMap: a user's map with a key named "constructor" (found by the fuzz test) otherwise
    // looks like a class instance to the marshaller and fails the write.
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
}

export function createExecutorDeps(
  config: ExecutorConfig,
  clients: AwsClients = createAwsClients(),
  logger: Logger = new Logger({ serviceName: "datahub-serverless-executor", persistentKeys: { stage: config.stage } }),
  statusApi?: DataHubStatusApi,
): ExecutorDeps {
  const doc = documentClient(clients.dynamodb);
  return {
    stage: config.stage,
    runs: new DynamoDbRunStore(doc, config.tableName),
    pools: new DynamoDbPoolStore(doc, config.tableName),
    outbox: new DynamoDbStatusOutbox(doc, config.tableName),
    launcher: new EcsTaskLauncher(clients.ecs, config.launch),
    deadLetters: new SqsDeadLetterQueue(clients.sqs, config.deadLetterQueueUrl),
    status: statusApi ?? gmsClient(config, clients, logger),
    runLogs: new CloudWatchRunLogs(clients.logs, { ...config.runLogs, containerName: config.launch.containerName }),
    now: Date.now,
    logger,
  };
}

function gmsClient(config: ExecutorConfig, clients: AwsClients, logger: Logger): DataHubStatusApi {
  if (config.gms === undefined) throw new ConfigError("no GMS configured (DHX_GMS_URL, DHX_GMS_TOKEN_SECRET_ARN)");
  const token = createGmsTokenProvider({
    reader: new SecretsManagerSecretReader(clients.secrets, ""),
    secretArn: config.gms.tokenSecretArn,
  });
  return new GmsClient({ gmsUrl: config.gms.url, token, logger });
}
