import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import { z } from "zod";
import { DynamoDbPoolStore } from "../adapters/dynamodb/dynamodb-pool-store.js";
import { DynamoDbIntakeMarkers } from "../adapters/dynamodb/intake-markers.js";
import { GmsIntakeClient } from "../adapters/gms/gms-intake-client.js";
import { createGmsTokenProvider } from "../adapters/gms/gms-token-provider.js";
import { SecretsManagerSecretReader } from "../adapters/secrets-manager/secrets-manager-secret-reader.js";
import { SqsIntakeQueue } from "../adapters/sqs/intake-queue-sender.js";
import type { IntakeDeps, IntakeSettings } from "../app/intake-ports.js";
import { documentClient } from "./create-aws-deps.js";
import { gmsUrlSetting, parseEnv } from "./parse-env.js";

const nonEmpty = z.string().trim().min(1);
const wholeNumber = (min: number, max: number) =>
  z.string().trim().regex(/^\d+$/, "must be a whole number").transform(Number).pipe(z.number().int().min(min).max(max));

/** What the intake Lambda must be told; nothing has a silent default (docs/intake.md, "Settings"). */
const IntakeEnv = z.object({
  DHX_STAGE: nonEmpty,
  DHX_TABLE_NAME: nonEmpty,
  DHX_INTAKE_QUEUE_URL: nonEmpty,
  DHX_GMS_URL: nonEmpty,
  DHX_GMS_TOKEN_SECRET_ARN: z.string().trim().startsWith("arn:", "must be a Secrets Manager secret ARN"),
  DHX_INTAKE_POLL_INTERVAL_SECONDS: wholeNumber(5, 60),
  DHX_INTAKE_LOOKBACK_MINUTES: wholeNumber(5, 7 * 24 * 60),
  DHX_INTAKE_PUBLISH_POOLS: z.enum(["true", "false"]),
});

/** 100 entities a page, 10 pages: 1,000 open requests per poll for the stage's pools is far past any backlog seen. */
export const INTAKE_PAGE_SIZE = 100;
export const INTAKE_MAX_PAGES = 10;
/** Longer than a SendMessage with the SDK's retries could take, so a live claimer is never doubled. */
export const INTAKE_CLAIM_LEASE_MS = 2 * 60 * 1000;

export type IntakeConfig = {
  stage: string;
  tableName: string;
  intakeQueueUrl: string;
  gms: { url: string; tokenSecretArn: string };
  pollIntervalSeconds: number;
  publishPools: boolean;
  settings: IntakeSettings;
};

export function loadIntakeConfig(env: Record<string, string | undefined>): IntakeConfig {
  const e = parseEnv(IntakeEnv, env, "intake");
  const gmsUrl = gmsUrlSetting(e.DHX_GMS_URL, "intake");
  return {
    stage: e.DHX_STAGE,
    tableName: e.DHX_TABLE_NAME,
    intakeQueueUrl: e.DHX_INTAKE_QUEUE_URL,
    gms: { url: gmsUrl, tokenSecretArn: e.DHX_GMS_TOKEN_SECRET_ARN },
    pollIntervalSeconds: e.DHX_INTAKE_POLL_INTERVAL_SECONDS,
    publishPools: e.DHX_INTAKE_PUBLISH_POOLS === "true",
    settings: {
      lookbackMs: e.DHX_INTAKE_LOOKBACK_MINUTES * 60 * 1000,
      pageSize: INTAKE_PAGE_SIZE,
      maxPages: INTAKE_MAX_PAGES,
      claimLeaseMs: INTAKE_CLAIM_LEASE_MS,
    },
  };
}

export type IntakeClients = { dynamodb: DynamoDBClient; sqs: SQSClient; secrets: SecretsManagerClient };

export function createIntakeDeps(
  config: Pick<IntakeConfig, "stage" | "tableName" | "intakeQueueUrl" | "gms" | "settings">,
  clients: IntakeClients = {
    dynamodb: new DynamoDBClient({}),
    sqs: new SQSClient({}),
    secrets: new SecretsManagerClient({}),
  },
  logger: Logger = new Logger({ serviceName: "datahub-serverless-executor", persistentKeys: { stage: config.stage } }),
): IntakeDeps & { gms: GmsIntakeClient } {
  const doc = documentClient(clients.dynamodb);
  const token = createGmsTokenProvider({
    reader: new SecretsManagerSecretReader(clients.secrets, ""),
    secretArn: config.gms.tokenSecretArn,
  });
  const gms = new GmsIntakeClient({ gmsUrl: config.gms.url, token, logger });
  return {
    pools: new DynamoDbPoolStore(doc, config.tableName),
    feed: gms,
    gms,
    markers: new DynamoDbIntakeMarkers(doc, config.tableName),
    queue: new SqsIntakeQueue(clients.sqs, config.intakeQueueUrl),
    settings: config.settings,
    now: Date.now,
    logger,
  };
}
