import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { PoolId, PoolSettings } from "../../core/pool.js";
import { executorDashboardBody } from "./executor-dashboard.js";

/**
 * One deploy environment's settings (functions/config/stages/<stage>.yml), validated when serverless.yml is
 * resolved, so a bad value stops `serverless package` with the key's name before anything reaches AWS.
 * Every key must be written down: nothing that has to be chosen per environment gets a silent default.
 */

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,15}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Names the executor sets itself: a stage value must not shadow them. */
const RESERVED_ENV_PREFIXES = ["DHX_", "AWS_", "ECS_"];

/** A complete secret ARN (with AWS's 6-character suffix), optionally with ECS's `:json-key:stage:version`. */
const SECRET_ARN =
  /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6})(:[^:]*:[^:]*:[^:]*)?$/;
const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([a-z0-9][a-z0-9._/-]*)$/;
/** The retention values CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const secretArn = z
  .string()
  .regex(SECRET_ARN, "must be a complete Secrets Manager ARN, ending in the secret's -XXXXXX suffix");

const envName = z.string().regex(ENV_NAME, "must be an environment variable name (letters, digits, '_')");

const GmsUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  .refine(
    (url) => !/\.acryl\.io$/.test(new URL(url).hostname) || new URL(url).pathname.replace(/\/+$/, "") === "/gms",
    {
      error: "DataHub Cloud's GMS URL is https://<tenant>.acryl.io/gms (it ends in /gms)",
    },
  );

const StagePool = PoolSettings.extend({ id: PoolId, default: z.boolean().default(false) });

export const StageConfig = z
  .object({
    /** development stages may be deleted with their data; production keeps the table and its backups. */
    kind: z.enum(["development", "production"]),
    region: z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, "must be an AWS region such as eu-west-1"),
    gms: z.object({ url: GmsUrl, tokenSecretArn: secretArn }).strict(),
    network: z
      .object({
        subnets: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, "must be a subnet id (subnet-…)")).min(1),
        securityGroups: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, "must be a security group id (sg-…)")).min(1),
        assignPublicIp: z.enum(["ENABLED", "DISABLED"]),
      })
      .strict(),
    taskImage: z
      .object({
        repositoryUri: z
          .string()
          .regex(ECR_IMAGE, "must be an ECR repository URI (<account>.dkr.ecr.<region>.amazonaws.com/<name>), no tag"),
        tag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be an image tag"),
        /** Whether the task may install a DataHub CLI version other than the image's own at start. */
        cliInstalls: z.enum(["enabled", "disabled"]),
      })
      .strict(),
    /** NAME → secret ARN, injected by ECS as the task's environment; recipes use them as ${NAME}. */
    sourceSecrets: z.record(envName, secretArn),
    extraEnv: z.record(envName, z.string().max(4096)),
    /** Managed policies for the run's own AWS access (sources such as Glue or S3 read with the task role). */
    taskRoleManagedPolicyArns: z.array(
      z
        .string()
        .regex(/^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/[A-Za-z0-9+=,.@_/-]+$/, "must be an IAM managed policy ARN"),
    ),
    pools: z.array(StagePool).min(1),
    logRetentionDays: z.number().refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
      error: `must be one of CloudWatch's retention values: ${LOG_RETENTION_DAYS.join(", ")}`,
    }),
    dispatch: z
      .object({
        timeoutSeconds: z.number().int().min(10).max(900),
        batchSize: z.number().int().min(1).max(10),
        maximumConcurrency: z.number().int().min(2).max(1000),
        /** Receives before a message goes to the DLQ; throttled deliveries count too (docs/deploy.md). */
        maxReceiveCount: z.number().int().min(5).max(1000),
      })
      .strict(),
    taskStateChange: z.object({ timeoutSeconds: z.number().int().min(10).max(900) }).strict(),
    reconcile: z.object({ timeoutSeconds: z.number().int().min(10).max(55) }).strict(),
    /** The GMS intake (docs/intake.md): DataHub's "Run" and "Cancel" for this stage's pools. */
    intake: z
      .object({
        /** false: deployed with its schedule disabled (SQS is then the only way in). */
        enabled: z.boolean(),
        pollIntervalSeconds: z.number().int().min(5).max(60),
        lookbackMinutes: z
          .number()
          .int()
          .min(5)
          .max(7 * 24 * 60),
        publishPools: z.boolean(),
        /** Under a minute: invocations come every minute, one at a time. */
        timeoutSeconds: z.number().int().min(10).max(59),
      })
      .strict(),
    alarms: z
      .object({
        /** An existing SNS topic for alarm notifications, or null. */
        topicArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/, "must be an SNS topic ARN")
          .nullable(),
        /** Emails subscribed to a topic this stack creates (when topicArn is null and the list is not empty). */
        emails: z.array(z.email()),
        gmsOutboxBacklogThreshold: z.number().int().min(1),
      })
      .strict(),
  })
  .strict()
  .superRefine((config, ctx) => {
    const defaults = config.pools.filter((pool) => pool.default);
    if (defaults.length !== 1) {
      ctx.addIssue({
        code: "custom",
        path: ["pools"],
        message: `exactly one pool must be default (${defaults.length} are)`,
      });
    }
    const seen = new Set<string>();
    config.pools.forEach((pool, index) => {
      if (seen.has(pool.id))
        ctx.addIssue({ code: "custom", path: ["pools", index, "id"], message: `duplicate pool id "${pool.id}"` });
      seen.add(pool.id);
    });
    for (const [section, names] of [
      ["sourceSecrets", Object.keys(config.sourceSecrets)],
      ["extraEnv", Object.keys(config.extraEnv)],
    ] as const) {
      for (const name of names) {
        if (RESERVED_ENV_PREFIXES.some((prefix) => name.startsWith(prefix))) {
          ctx.addIssue({
            code: "custom",
            path: [section, name],
            message: `names starting with ${RESERVED_ENV_PREFIXES.join(", ")} are the executor's own`,
          });
        }
      }
    }
    for (const name of Object.keys(config.extraEnv)) {
      if (name in config.sourceSecrets) {
        ctx.addIssue({ code: "custom", path: ["extraEnv", name], message: "is also a source secret: pick one" });
      }
    }
    config.taskRoleManagedPolicyArns.forEach((arn, index) => {
      // Admin-like policies would undo the task role's least privilege for every recipe of the stage.
      if (/:policy\/(AdministratorAccess|PowerUserAccess|IAMFullAccess)$/.test(arn)) {
        ctx.addIssue({
          code: "custom",
          path: ["taskRoleManagedPolicyArns", index],
          message: "grants far more than a recipe needs",
        });
      }
    });
    if (config.alarms.topicArn !== null && config.alarms.emails.length > 0) {
      ctx.addIssue({ code: "custom", path: ["alarms", "emails"], message: "give either topicArn or emails, not both" });
    }
    const imageRegion = ECR_IMAGE.exec(config.taskImage.repositoryUri)?.[2];
    if (imageRegion !== undefined && imageRegion !== config.region) {
      // Cross-region pulls work but are slow and billed; almost always a copy-paste slip.
      ctx.addIssue({
        code: "custom",
        path: ["taskImage", "repositoryUri"],
        message: `is in ${imageRegion}, the stage deploys to ${config.region}`,
      });
    }
  });
export type StageConfig = z.infer<typeof StageConfig>;

export class StageConfigError extends Error {
  override readonly name = "StageConfigError" as const;
}

/** What serverless.yml reads as ${self:custom.stage.*}: the stage file plus the values derived from it. */
export type StackSettings = ReturnType<typeof deriveStackSettings>;

export function parseStageConfig(raw: unknown, source: string): StageConfig {
  const parsed = StageConfig.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const key = issue.path.length === 0 ? "(top level)" : issue.path.join(".");
    const missing = issue.code !== "custom" && valueAt(raw, issue.path) === undefined;
    return `  ${key}: ${missing ? "is missing (example.yml documents every key)" : issue.message}`;
  });
  throw new StageConfigError(`${source} is not valid:\n${problems.join("\n")}`);
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let node = raw;
  for (const key of path) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

export function readStageConfig(stage: string, stagesDir: string): StageConfig {
  if (!STAGE_PATTERN.test(stage)) {
    throw new StageConfigError(
      `stage "${stage}" must be 1-16 lowercase letters, digits or '-', starting with a letter`,
    );
  }
  const file = join(stagesDir, `${stage}.yml`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new StageConfigError(
      `no settings for stage "${stage}": copy functions/config/stages/example.yml to ${stage}.yml`,
    );
  }
  const source = `functions/config/stages/${stage}.yml`;
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new StageConfigError(
      `${source} is not valid YAML: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return parseStageConfig(raw, source);
}

/** The IAM resource of a secret reference: ECS's json-key suffix is not part of the secret's ARN. */
export function secretResourceArn(reference: string): string {
  const match = SECRET_ARN.exec(reference);
  if (match?.[1] === undefined) throw new StageConfigError(`not a secret ARN: ${reference}`);
  return match[1];
}

export function deriveStackSettings(stage: string, config: StageConfig) {
  const image = ECR_IMAGE.exec(config.taskImage.repositoryUri);
  if (image === null) throw new StageConfigError("taskImage.repositoryUri: not an ECR repository URI");
  const [, account, region, china, repositoryName] = image;
  const partition = china === undefined ? "aws" : "aws-cn";
  const prefix = `dhx-${stage}`;
  const sourceSecretArns = [...new Set(Object.values(config.sourceSecrets).map(secretResourceArn))].sort();
  const alarmActions =
    config.alarms.topicArn !== null
      ? [config.alarms.topicArn]
      : config.alarms.emails.length > 0
        ? [{ Ref: "AlarmTopic" }]
        : [];
  return {
    ...config,
    name: stage,
    prefix,
    deletionProtection: config.kind === "production",
    tableDeletionPolicy: config.kind === "production" ? "Retain" : "Delete",
    /** AWS recommends a visibility timeout of at least 6× the function timeout for SQS triggers. */
    intakeVisibilityTimeoutSeconds: 6 * config.dispatch.timeoutSeconds,
    secretPrefix: `datahub-executor/${stage}/`,
    image: `${config.taskImage.repositoryUri}:${config.taskImage.tag}`,
    ecrRepositoryArn: `arn:${partition}:ecr:${region}:${account}:repository/${repositoryName}`,
    taskSecrets: Object.entries(config.sourceSecrets)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([Name, ValueFrom]) => ({ Name, ValueFrom })),
    taskEnvironment: [
      { Name: "DHX_STAGE", Value: stage },
      { Name: "DHX_TABLE_NAME", Value: { Ref: "ExecutorTable" } },
      { Name: "DHX_SECRET_PREFIX", Value: `datahub-executor/${stage}/` },
      { Name: "DHX_CLI_INSTALLS", Value: config.taskImage.cliInstalls },
      ...Object.entries(config.extraEnv)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([Name, Value]) => ({ Name, Value })),
    ],
    alarmActions,
    /** The intake's own variables (Lambda environment values are strings). */
    intakeEnvironment: {
      DHX_INTAKE_POLL_INTERVAL_SECONDS: String(config.intake.pollIntervalSeconds),
      DHX_INTAKE_LOOKBACK_MINUTES: String(config.intake.lookbackMinutes),
      DHX_INTAKE_PUBLISH_POOLS: String(config.intake.publishPools),
    },
    dashboardBody: executorDashboardBody({ region: config.region, stage, prefix }),
    /** Resource fragments merged into serverless.yml's `resources`: only what this stage uses. */
    optionalResources: {
      Resources: {
        ...(sourceSecretArns.length === 0
          ? {}
          : { TaskExecutionSourceSecretsPolicy: sourceSecretsPolicy(sourceSecretArns) }),
        ...(config.alarms.topicArn === null && config.alarms.emails.length > 0
          ? { AlarmTopic: alarmTopic(prefix, config.alarms.emails) }
          : {}),
      },
    },
    /** The pools to create after deploy (docs/deploy.md), as JSON for a stack output. */
    poolsJson: JSON.stringify(config.pools),
  };
}

function sourceSecretsPolicy(arns: string[]) {
  return {
    Type: "AWS::IAM::RolePolicy",
    Properties: {
      RoleName: { Ref: "TaskExecutionRole" },
      PolicyName: "read-source-secrets",
      PolicyDocument: {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: arns }],
      },
    },
  };
}

function alarmTopic(prefix: string, emails: string[]) {
  return {
    Type: "AWS::SNS::Topic",
    Properties: {
      TopicName: `${prefix}-alarms`,
      // Not encrypted: CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key, and alarm
      // messages carry no secrets (docs/deploy.md, accepted checkov exceptions).
      Subscription: emails.map((Endpoint) => ({ Protocol: "email", Endpoint })),
    },
  };
}

/** Entry for serverless.yml (through load-stage-config.cjs). */
export function loadStackSettings(stage: string, stagesDir: string): StackSettings {
  return deriveStackSettings(stage, readStageConfig(stage, stagesDir));
}
