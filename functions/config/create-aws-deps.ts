import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ECSClient } from "@aws-sdk/client-ecs";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoDbPoolStore } from "../adapters/dynamodb/dynamodb-pool-store.js";
import { DynamoDbRunStore } from "../adapters/dynamodb/dynamodb-run-store.js";
import { EcsTaskLauncher } from "../adapters/ecs/ecs-task-launcher.js";
import { SqsDeadLetterQueue } from "../adapters/sqs/sqs-dead-letter-queue.js";
import type { ExecutorDeps } from "../app/executor-deps.js";
import type { ExecutorConfig } from "./executor-config.js";

export type AwsClients = { dynamodb: DynamoDBClient; ecs: ECSClient; sqs: SQSClient };

/** Clients are made once per container; AWS_ENDPOINT_URL points them at moto locally. */
export function createAwsClients(): AwsClients {
  return { dynamodb: new DynamoDBClient({}), ecs: new ECSClient({}), sqs: new SQSClient({}) };
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
): ExecutorDeps {
  const doc = documentClient(clients.dynamodb);
  return {
    runs: new DynamoDbRunStore(doc, config.tableName),
    pools: new DynamoDbPoolStore(doc, config.tableName),
    launcher: new EcsTaskLauncher(clients.ecs, config.launch),
    deadLetters: new SqsDeadLetterQueue(clients.sqs, config.deadLetterQueueUrl),
    now: Date.now,
    logger,
  };
}
