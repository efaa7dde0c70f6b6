import { CloudWatchLogsClient, CreateLogGroupCommand } from "@aws-sdk/client-cloudwatch-logs";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeSubnetsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { CreateClusterCommand, ECSClient, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { executorTableDefinition } from "../adapters/dynamodb/table-definition.js";
import type { ExecutorConfig } from "../config/executor-config.js";

export type LocalStackClients = {
  logs: CloudWatchLogsClient;
  dynamodb: DynamoDBClient;
  ecs: ECSClient;
  sqs: SQSClient;
  ec2: EC2Client;
  secrets: SecretsManagerClient;
};

/** One client per service the local stack needs; `config` points them elsewhere than AWS_ENDPOINT_URL if given. */
export function createLocalStackClients(
  config: ConstructorParameters<typeof DynamoDBClient>[0] = {},
): LocalStackClients {
  return {
    dynamodb: new DynamoDBClient(config),
    ecs: new ECSClient(config),
    sqs: new SQSClient(config),
    ec2: new EC2Client(config),
    secrets: new SecretsManagerClient(config),
    logs: new CloudWatchLogsClient(config),
  };
}

export type LocalStack = {
  config: ExecutorConfig;
  intakeQueueUrl: string;
  /** NAME → secret ARN, wired into the task definition's `secrets` as serverless.yml does on AWS. */
  taskSecrets: Record<string, string>;
};

export const LOCAL_CONTAINER_NAME = "ingestion";

/**
 * Creates, in moto, the resources serverless.yml creates on AWS: the table, the intake queue with its
 * dead-letter queue, the cluster and one task definition registered up front (never per run).
 */
export async function provisionLocalStack(
  clients: LocalStackClients,
  options: {
    stage: string;
    secrets?: Record<string, string>;
    /** A GMS to report to, with its token (stored as a secret, as on AWS); without one, statuses go elsewhere. */
    gms?: { url: string; token: string };
  },
): Promise<LocalStack> {
  const prefix = `dhx-${options.stage}`;
  const tableName = `${prefix}-executor`;
  await clients.dynamodb.send(new CreateTableCommand(executorTableDefinition(tableName)));

  // The DLQ takes the refused body whole, with its reason in attributes: it must accept what the intake does.
  const dlq = await clients.sqs.send(
    new CreateQueueCommand({ QueueName: `${prefix}-intake-dlq`, Attributes: { MaximumMessageSize: "1048576" } }),
  );
  const dlqUrl = required(dlq.QueueUrl, "dead-letter queue URL");
  const dlqArn = (
    await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }))
  ).Attributes?.QueueArn;
  const intake = await clients.sqs.send(
    new CreateQueueCommand({
      QueueName: `${prefix}-intake`,
      Attributes: {
        VisibilityTimeout: "360",
        MaximumMessageSize: "1048576",
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }),
      },
    }),
  );

  const taskSecrets: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.secrets ?? {})) {
    const created = await clients.secrets.send(
      new CreateSecretCommand({ Name: `${prefix}/${name}`, SecretString: value }),
    );
    taskSecrets[name] = required(created.ARN, `ARN of secret ${name}`);
  }

  let gms: LocalStack["config"]["gms"];
  if (options.gms !== undefined) {
    const token = await clients.secrets.send(
      new CreateSecretCommand({ Name: `${prefix}/gms-token`, SecretString: options.gms.token }),
    );
    gms = { url: options.gms.url, tokenSecretArn: required(token.ARN, "ARN of the GMS token secret") };
  }
  const runLogGroup = `/${prefix}/runs`;
  await clients.logs.send(new CreateLogGroupCommand({ logGroupName: runLogGroup }));

  const cluster = await clients.ecs.send(new CreateClusterCommand({ clusterName: `${prefix}-cluster` }));
  const taskDefinition = await clients.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: `${prefix}-ingestion`,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: "1024",
      memory: "4096",
      executionRoleArn: "arn:aws:iam::123456789012:role/dhx-local-execution",
      taskRoleArn: "arn:aws:iam::123456789012:role/dhx-local-task",
      containerDefinitions: [
        {
          name: LOCAL_CONTAINER_NAME,
          image: "datahub-serverless-executor-task:local",
          essential: true,
          memory: 4096,
          stopTimeout: 120,
          secrets: Object.entries(taskSecrets).map(([name, valueFrom]) => ({ name, valueFrom })),
          logConfiguration: {
            logDriver: "awslogs",
            options: {
              "awslogs-group": `/${prefix}/runs`,
              "awslogs-region": "us-east-1",
              "awslogs-stream-prefix": "run",
            },
          },
        },
      ],
    }),
  );
  const subnets = await clients.ec2.send(new DescribeSubnetsCommand({}));
  const subnetId = required(subnets.Subnets?.[0]?.SubnetId, "a subnet of the default VPC");

  return {
    intakeQueueUrl: required(intake.QueueUrl, "intake queue URL"),
    taskSecrets,
    config: {
      stage: options.stage,
      tableName,
      deadLetterQueueUrl: dlqUrl,
      ...(gms === undefined ? {} : { gms }),
      runLogs: { logGroup: runLogGroup, streamPrefix: "run" },
      launch: {
        stage: options.stage,
        cluster: required(cluster.cluster?.clusterArn, "cluster ARN"),
        taskDefinition: required(taskDefinition.taskDefinition?.taskDefinitionArn, "task definition ARN"),
        containerName: LOCAL_CONTAINER_NAME,
        subnets: [subnetId],
        securityGroups: ["sg-local"],
        assignPublicIp: "DISABLED",
      },
    },
  };
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`moto did not return ${what}`);
  return value;
}
