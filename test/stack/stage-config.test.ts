import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  deriveStackSettings,
  parseStageConfig,
  readStageConfig,
  StageConfigError,
  secretResourceArn,
} from "../../functions/config/stages/stage-config.js";

const stagesDir = join(import.meta.dirname, "../../functions/config/stages");
const ci = parseYaml(readFileSync(join(stagesDir, "ci.yml"), "utf8")) as Record<string, unknown>;

/** The ci stage with one change; `undefined` removes the key. */
function ciWith(path: string, value: unknown): unknown {
  const copy = structuredClone(ci);
  const keys = path.split(".");
  const last = keys.pop() as string;
  let node = copy as Record<string, unknown>;
  for (const key of keys) node = node[key] as Record<string, unknown>;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

function problemWith(raw: unknown): string {
  try {
    parseStageConfig(raw, "test.yml");
  } catch (error) {
    expect(error).toBeInstanceOf(StageConfigError);
    return (error as Error).message;
  }
  throw new Error("the configuration was accepted");
}

describe("stage files", () => {
  it.each(["ci", "example"])("%s.yml is valid", (stage) => {
    expect(() => readStageConfig(stage, stagesDir)).not.toThrow();
  });

  it("a stage without a file is told to copy example.yml", () => {
    expect(() => readStageConfig("nosuchstage", stagesDir)).toThrow(
      /no settings for stage "nosuchstage": copy .*example\.yml/,
    );
  });

  it("a stage name that cannot prefix AWS names is refused", () => {
    expect(() => readStageConfig("Prod_1", stagesDir)).toThrow(/stage "Prod_1" must be 1-16 lowercase/);
  });
});

describe("the loader serverless.yml calls (load-stage-config.cjs)", () => {
  const load = createRequire(import.meta.url)("../../functions/config/stages/load-stage-config.cjs") as (source: {
    resolveVariable: (name: string) => Promise<string>;
  }) => Promise<{ name: string; prefix: string }>;

  it("resolves the stage serverless is packaging", async () => {
    const settings = await load({ resolveVariable: async (name) => (name === "sls:stage" ? "ci" : "unexpected") });
    expect(settings).toMatchObject({ name: "ci", prefix: "dhx-ci" });
  });

  it("a configuration mistake reaches the console as its message alone, without a stack trace", async () => {
    const failure = await load({ resolveVariable: async () => "nosuchstage" }).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).stack).toBe(
      'StageConfigError: no settings for stage "nosuchstage": copy functions/config/stages/example.yml to nosuchstage.yml',
    );
  });
});

describe("a bad value stops packaging with the key's name", () => {
  it.each([
    ["gms.url", undefined, /gms\.url: is missing \(example\.yml documents every key\)/],
    ["gms.url", "https://acme.acryl.io", /gms\.url: DataHub Cloud's GMS URL is https:\/\/<tenant>\.acryl\.io\/gms/],
    ["gms.tokenSecretArn", "datahub-token", /gms\.tokenSecretArn: must be a complete Secrets Manager ARN/],
    [
      "gms.tokenSecretArn",
      "arn:aws:secretsmanager:us-east-1:123456789012:secret:datahub-executor/ci/gms-token",
      /gms\.tokenSecretArn: must be a complete Secrets Manager ARN, ending in the secret's -XXXXXX suffix/,
    ],
    ["network.subnets", [], /network\.subnets: /],
    ["network.subnets", ["vpc-123"], /network\.subnets\.0: must be a subnet id/],
    ["network.assignPublicIp", "YES", /network\.assignPublicIp: /],
    ["taskImage.repositoryUri", "docker.io/acme/task", /taskImage\.repositoryUri: must be an ECR repository URI/],
    [
      "taskImage.repositoryUri",
      "123456789012.dkr.ecr.eu-west-1.amazonaws.com/task",
      /taskImage\.repositoryUri: is in eu-west-1, the stage deploys to us-east-1/,
    ],
    [
      "sourceSecrets",
      { "BAD-NAME": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbC123" },
      /sourceSecrets\.BAD-NAME: /,
    ],
    [
      "sourceSecrets",
      { DHX_RUN_ID: "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbC123" },
      /sourceSecrets\.DHX_RUN_ID: names starting with DHX_/,
    ],
    ["sourceSecrets", { PASSWORD: "hunter2" }, /sourceSecrets\.PASSWORD: must be a complete Secrets Manager ARN/],
    ["extraEnv", { SNOWFLAKE_PASSWORD: "x" }, /extraEnv\.SNOWFLAKE_PASSWORD: is also a source secret/],
    ["extraEnv", { PORT: 8080 }, /extraEnv\.PORT: /],
    ["pools", [{ id: "a" }, { id: "b" }], /pools: exactly one pool must be default \(0 are\)/],
    ["pools", [{ id: "a", default: true }, { id: "a" }], /pools\.1\.id: duplicate pool id "a"/],
    ["pools", [{ id: "a", default: true, ingestionMaxWorkers: 0 }], /pools\.0\.ingestionMaxWorkers: /],
    ["logRetentionDays", 10, /logRetentionDays: must be one of CloudWatch's retention values/],
    ["dispatch.maximumConcurrency", 1, /dispatch\.maximumConcurrency: /],
    ["dispatch.maxReceiveCount", 2, /dispatch\.maxReceiveCount: /],
    ["reconcile.timeoutSeconds", 60, /reconcile\.timeoutSeconds: /],
    ["intake.pollIntervalSeconds", 2, /intake\.pollIntervalSeconds: /],
    ["intake.timeoutSeconds", 60, /intake\.timeoutSeconds: /],
    ["intake.publishPools", "yes", /intake\.publishPools: /],
    [
      "alarms.topicArn",
      "arn:aws:sns:us-east-1:123456789012:ops",
      /alarms\.emails: give either topicArn or emails, not both/,
    ],
    ["kind", "staging", /kind: /],
    [
      "taskRoleManagedPolicyArns",
      ["AmazonS3ReadOnlyAccess"],
      /taskRoleManagedPolicyArns\.0: must be an IAM managed policy ARN/,
    ],
    [
      "taskRoleManagedPolicyArns",
      ["arn:aws:iam::aws:policy/AdministratorAccess"],
      /taskRoleManagedPolicyArns\.0: grants far more than a recipe needs/,
    ],
    ["surprise", true, /\(top level\): Unrecognized key: "surprise"/],
  ])("%s = %j", (path, value, message) => {
    const problem = problemWith(ciWith(path, value));
    expect(problem).toMatch(/^test\.yml is not valid:\n/);
    expect(problem).toMatch(message);
  });

  it("every problem is listed, not only the first", () => {
    const problem = problemWith({ ...(ciWith("region", "Mars") as object), kind: "x" });
    expect(problem).toMatch(/region: must be an AWS region/);
    expect(problem).toMatch(/kind: /);
  });
});

describe("derived settings", () => {
  const config = readStageConfig("ci", stagesDir);

  it("production keeps the table: deletion protection and a Retain policy", () => {
    const production = deriveStackSettings("prod", { ...config, kind: "production" });
    expect(production.deletionProtection).toBe(true);
    expect(production.tableDeletionPolicy).toBe("Retain");
    const development = deriveStackSettings("ci", config);
    expect(development.deletionProtection).toBe(false);
    expect(development.tableDeletionPolicy).toBe("Delete");
  });

  it("visibility timeout is 6x the dispatch timeout", () => {
    const settings = deriveStackSettings("ci", { ...config, dispatch: { ...config.dispatch, timeoutSeconds: 90 } });
    expect(settings.intakeVisibilityTimeoutSeconds).toBe(540);
  });

  it("no source secrets: no policy for them at all (an IAM statement cannot have an empty resource list)", () => {
    const settings = deriveStackSettings("ci", { ...config, sourceSecrets: {} });
    expect(settings.optionalResources.Resources).not.toHaveProperty("TaskExecutionSourceSecretsPolicy");
    expect(settings.taskSecrets).toEqual([]);
  });

  it("many source secrets: all of them, each ARN once (no small fixed limit)", () => {
    const sourceSecrets = Object.fromEntries(
      Array.from({ length: 60 }, (_, i) => [
        `SECRET_${i}`,
        `arn:aws:secretsmanager:us-east-1:123456789012:secret:s${i % 30}-AbC123`,
      ]),
    );
    const settings = deriveStackSettings("ci", { ...config, sourceSecrets });
    expect(settings.taskSecrets).toHaveLength(60);
    const policy = settings.optionalResources.Resources.TaskExecutionSourceSecretsPolicy;
    expect(policy?.Properties.PolicyDocument.Statement[0]?.Resource).toHaveLength(30);
  });

  it("alarm actions: an existing topic, a created topic, or none", () => {
    expect(deriveStackSettings("ci", config).alarmActions).toEqual([{ Ref: "AlarmTopic" }]);
    const existing = {
      ...config,
      alarms: { ...config.alarms, emails: [], topicArn: "arn:aws:sns:us-east-1:123456789012:ops" },
    };
    expect(deriveStackSettings("ci", existing).alarmActions).toEqual(["arn:aws:sns:us-east-1:123456789012:ops"]);
    expect(deriveStackSettings("ci", existing).optionalResources.Resources).not.toHaveProperty("AlarmTopic");
    const none = { ...config, alarms: { ...config.alarms, emails: [] } };
    expect(deriveStackSettings("ci", none).alarmActions).toEqual([]);
  });

  it("a secret reference's IAM resource drops ECS's json-key suffix", () => {
    expect(
      secretResourceArn("arn:aws:secretsmanager:us-east-1:123456789012:secret:shared/looker-QwE456:client_secret::"),
    ).toBe("arn:aws:secretsmanager:us-east-1:123456789012:secret:shared/looker-QwE456");
  });
});
