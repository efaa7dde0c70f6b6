import { describe, expect, it } from "vitest";
import { loadExecutorConfig } from "../../functions/config/executor-config.js";
import { ConfigError } from "../../functions/core/errors.js";

const env = {
  DHX_STAGE: "prod",
  DHX_TABLE_NAME: "dhx-prod-executor",
  DHX_DEAD_LETTER_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/dhx-prod-intake-dlq",
  DHX_ECS_CLUSTER: "arn:aws:ecs:us-east-1:123456789012:cluster/dhx-prod-cluster",
  DHX_TASK_DEFINITION: "arn:aws:ecs:us-east-1:123456789012:task-definition/dhx-prod-ingestion:3",
  DHX_TASK_CONTAINER_NAME: "ingestion",
  DHX_TASK_SUBNETS: "subnet-a, subnet-b",
  DHX_TASK_SECURITY_GROUPS: "sg-1",
  DHX_TASK_ASSIGN_PUBLIC_IP: "DISABLED",
  DHX_GMS_URL: "https://acme.acryl.io/gms/",
  DHX_GMS_TOKEN_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:dhx/gms-token-AbC123",
  DHX_RUN_LOG_GROUP: "/dhx-prod/runs",
  DHX_RUN_LOG_STREAM_PREFIX: "run",
};

describe("the executor's configuration, read once at cold start", () => {
  it("reads a complete environment", () => {
    const config = loadExecutorConfig(env);
    expect(config.launch.subnets).toEqual(["subnet-a", "subnet-b"]);
    expect(config.gms).toEqual({ url: "https://acme.acryl.io/gms", tokenSecretArn: env.DHX_GMS_TOKEN_SECRET_ARN });
  });

  it("names every missing or wrong variable", () => {
    const { DHX_TABLE_NAME: _t, DHX_GMS_TOKEN_SECRET_ARN: _g, ...partial } = env;
    const call = () => loadExecutorConfig({ ...partial, DHX_TASK_ASSIGN_PUBLIC_IP: "MAYBE" });
    expect(call).toThrow(ConfigError);
    expect(call).toThrow(/DHX_TABLE_NAME is not set/);
    expect(call).toThrow(/DHX_GMS_TOKEN_SECRET_ARN is not set/);
    expect(call).toThrow(/DHX_TASK_ASSIGN_PUBLIC_IP: /);
  });

  it("refuses a DataHub Cloud URL without /gms, saying so", () => {
    expect(() => loadExecutorConfig({ ...env, DHX_GMS_URL: "https://acme.acryl.io" })).toThrow(/DHX_GMS_URL: .*\/gms/);
  });
});
