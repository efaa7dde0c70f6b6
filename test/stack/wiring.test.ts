import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { executorTableDefinition } from "../../functions/adapters/dynamodb/table-definition.js";
import { loadExecutorConfig } from "../../functions/config/executor-config.js";
import { loadIntakeConfig } from "../../functions/config/intake-config.js";
import { loadStackSettings } from "../../functions/config/stages/stage-config.js";
import { asList, readTemplate, refersTo, resolveForTest, resource, resourcesOfType } from "./packaged-template.js";

const template = readTemplate();
const stage = loadStackSettings("ci", join(import.meta.dirname, "../../functions/config/stages"));
const FUNCTIONS = ["DispatchLambdaFunction", "TaskStateChangeLambdaFunction", "ReconcileLambdaFunction"];

describe("dispatch's SQS trigger", () => {
  const [mappings] = [resourcesOfType(template, "AWS::Lambda::EventSourceMapping")];
  const mapping = mappings[0]?.[1].Properties ?? {};

  it("is the only event source mapping, from the intake queue to dispatch", () => {
    expect(mappings).toHaveLength(1);
    expect(mapping.EventSourceArn).toEqual({ "Fn::GetAtt": ["IntakeQueue", "Arn"] });
    expect(refersTo(mapping.FunctionName, "DispatchLambdaFunction")).toBe(true);
  });

  it("reports partial batch failures, with the stage's batch size and maximum concurrency", () => {
    expect(mapping.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
    expect(mapping.BatchSize).toBe(stage.dispatch.batchSize);
    expect(mapping.ScalingConfig).toEqual({ MaximumConcurrency: stage.dispatch.maximumConcurrency });
    expect(mapping.Enabled).toBe(true);
  });

  it("the intake queue's visibility timeout is at least 6x dispatch's timeout", () => {
    const timeout = resource(template, "DispatchLambdaFunction").Properties.Timeout as number;
    const visibility = resource(template, "IntakeQueue").Properties.VisibilityTimeout as number;
    expect(timeout).toBe(stage.dispatch.timeoutSeconds);
    expect(visibility).toBeGreaterThanOrEqual(6 * timeout);
    expect(visibility).toBeLessThanOrEqual(43_200);
  });
});

describe("queues", () => {
  it("intake: 1 MiB messages set explicitly, SSE, redrive to the DLQ after the stage's receive count", () => {
    const intake = resource(template, "IntakeQueue").Properties;
    expect(intake.MaximumMessageSize).toBe(1_048_576);
    expect(intake.SqsManagedSseEnabled).toBe(true);
    expect(intake.RedrivePolicy).toEqual({
      deadLetterTargetArn: { "Fn::GetAtt": ["IntakeDeadLetterQueue", "Arn"] },
      maxReceiveCount: stage.dispatch.maxReceiveCount,
    });
    expect(stage.dispatch.maxReceiveCount).toBeGreaterThanOrEqual(5);
  });

  it("dead-letter queue: SSE, 1 MiB, kept 14 days", () => {
    const dlq = resource(template, "IntakeDeadLetterQueue").Properties;
    expect(dlq).toMatchObject({
      SqsManagedSseEnabled: true,
      MaximumMessageSize: 1_048_576,
      MessageRetentionPeriod: 1_209_600,
    });
  });
});

describe("task-state-change's EventBridge rule", () => {
  const rules = resourcesOfType(template, "AWS::Events::Rule").filter(([, rule]) =>
    asList(rule.Properties.Targets as { Arn: unknown }[]).some((t) => refersTo(t.Arn, "TaskStateChangeLambdaFunction")),
  );

  it("matches ECS Task State Change events of this cluster only", () => {
    expect(rules).toHaveLength(1);
    const rule = rules[0]?.[1].Properties ?? {};
    expect(rule.EventPattern).toEqual({
      source: ["aws.ecs"],
      "detail-type": ["ECS Task State Change"],
      detail: { clusterArn: [{ "Fn::GetAtt": ["Cluster", "Arn"] }] },
    });
    expect(rule.EventBusName).toBeUndefined(); // AWS service events arrive on the default bus only
    expect(rule.State).toBe("ENABLED");
  });

  it("retries delivery for an hour", () => {
    const targets = (rules[0]?.[1].Properties.Targets ?? []) as { RetryPolicy?: unknown }[];
    expect(targets).toHaveLength(1);
    const target = targets[0];
    expect(target?.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 20 });
  });

  it("EventBridge may invoke task-state-change, from that rule only", () => {
    const permissions = resourcesOfType(template, "AWS::Lambda::Permission").filter(([, p]) =>
      refersTo(p.Properties.FunctionName, "TaskStateChangeLambdaFunction"),
    );
    expect(permissions).toHaveLength(1);
    const permission = permissions[0]?.[1].Properties ?? {};
    expect(permission.Principal).toBe("events.amazonaws.com");
    // The framework spells the rule's ARN out of its name: arn:…:events:…:rule/<name>.
    const ruleName = rules[0]?.[1].Properties.Name as string;
    expect(ruleName).toBe("dhx-ci-task-state-change");
    expect(JSON.stringify(permission.SourceArn)).toContain(`["rule","${ruleName}"]`);
  });
});

describe("reconcile", () => {
  it("runs every minute, one pass at a time", () => {
    const schedules = resourcesOfType(template, "AWS::Events::Rule").filter(([, rule]) =>
      asList(rule.Properties.Targets as { Arn: unknown }[]).some((t) => refersTo(t.Arn, "ReconcileLambdaFunction")),
    );
    expect(schedules).toHaveLength(1);
    expect(schedules[0]?.[1].Properties.ScheduleExpression).toBe("rate(1 minute)");
    const reconcile = resource(template, "ReconcileLambdaFunction").Properties;
    expect(reconcile.ReservedConcurrentExecutions).toBe(1);
    expect(reconcile.Timeout as number).toBeLessThan(60);
  });
});

describe("intake", () => {
  it("polls every minute, one invocation at a time, under a minute, when the stage enables it", () => {
    const schedules = resourcesOfType(template, "AWS::Events::Rule").filter(([, rule]) =>
      asList(rule.Properties.Targets as { Arn: unknown }[]).some((t) => refersTo(t.Arn, "IntakeLambdaFunction")),
    );
    expect(schedules).toHaveLength(1);
    expect(schedules[0]?.[1].Properties.ScheduleExpression).toBe("rate(1 minute)");
    expect(schedules[0]?.[1].Properties.State).toBe(stage.intake.enabled ? "ENABLED" : "DISABLED");
    const intake = resource(template, "IntakeLambdaFunction").Properties;
    expect(intake.Handler).toBe("functions/entry/intake.handler");
    expect(intake.ReservedConcurrentExecutions).toBe(1);
    expect(intake.Timeout).toBe(stage.intake.timeoutSeconds);
    expect(intake.Timeout as number).toBeLessThan(60);
  });

  it("its environment is what loadIntakeConfig needs, with the stage's intake settings", () => {
    const variables = (
      resource(template, "IntakeLambdaFunction").Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(variables).toMatchObject({
      DHX_INTAKE_QUEUE_URL: { Ref: "IntakeQueue" },
      DHX_INTAKE_POLL_INTERVAL_SECONDS: String(stage.intake.pollIntervalSeconds),
      DHX_INTAKE_LOOKBACK_MINUTES: String(stage.intake.lookbackMinutes),
      DHX_INTAKE_PUBLISH_POOLS: String(stage.intake.publishPools),
    });
    const config = loadIntakeConfig(resolveForTest(variables) as Record<string, string>);
    expect(config.pollIntervalSeconds).toBe(stage.intake.pollIntervalSeconds);
    expect(config.settings.lookbackMs).toBe(stage.intake.lookbackMinutes * 60_000);
    expect(config.gms.url).toBe(stage.gms.url);
    expect(resource(template, "IntakeLogGroup").Properties.RetentionInDays).toBe(stage.logRetentionDays);
  });
});

describe("functions", () => {
  it.each([
    ["DispatchLambdaFunction", "functions/entry/dispatch-request.handler"],
    ["TaskStateChangeLambdaFunction", "functions/entry/task-state-change.handler"],
    ["ReconcileLambdaFunction", "functions/entry/reconcile.handler"],
  ])("%s runs %s on nodejs22.x", (id, handler) => {
    const fn = resource(template, id).Properties;
    expect(fn.Handler).toBe(handler);
    expect(fn.Runtime).toBe("nodejs22.x");
  });

  it.each(FUNCTIONS)("%s: its environment is everything the executor reads at cold start", (id) => {
    const variables = (resource(template, id).Properties.Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(Object.keys(variables).sort()).toEqual(
      [
        "DHX_DEAD_LETTER_QUEUE_URL",
        "DHX_ECS_CLUSTER",
        "DHX_GMS_TOKEN_SECRET_ARN",
        "DHX_GMS_URL",
        "DHX_INTAKE_QUEUE_URL",
        "DHX_RUN_LOG_GROUP",
        "DHX_RUN_LOG_STREAM_PREFIX",
        "DHX_STAGE",
        "DHX_TABLE_NAME",
        "DHX_TASK_ASSIGN_PUBLIC_IP",
        "DHX_TASK_CONTAINER_NAME",
        "DHX_TASK_DEFINITION",
        "DHX_TASK_SECURITY_GROUPS",
        "DHX_TASK_SUBNETS",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_SERVICE_NAME",
      ].sort(),
    );
    expect(variables).toMatchObject({
      DHX_STAGE: "ci",
      DHX_TABLE_NAME: { Ref: "ExecutorTable" },
      DHX_ECS_CLUSTER: { "Fn::GetAtt": ["Cluster", "Arn"] },
      DHX_TASK_DEFINITION: { Ref: "TaskDefinition" },
      DHX_TASK_CONTAINER_NAME: "ingestion",
      DHX_RUN_LOG_STREAM_PREFIX: "run",
      DHX_GMS_TOKEN_SECRET_ARN: stage.gms.tokenSecretArn,
      POWERTOOLS_METRICS_NAMESPACE: "DataHubServerlessExecutor",
    });
    const config = loadExecutorConfig(resolveForTest(variables) as Record<string, string>);
    expect(config.launch.subnets).toEqual(stage.network.subnets);
    expect(config.launch.securityGroups).toEqual(stage.network.securityGroups);
    expect(config.launch.assignPublicIp).toBe("DISABLED");
  });

  it("each function has a log group with the stage's retention", () => {
    for (const name of ["DispatchLogGroup", "TaskStateChangeLogGroup", "ReconcileLogGroup", "RunLogGroup"]) {
      expect(resource(template, name).Properties.RetentionInDays).toBe(stage.logRetentionDays);
    }
  });
});

describe("the executor table", () => {
  const table = resource(template, "ExecutorTable");

  it("has exactly the keys and indexes local mode creates (executorTableDefinition)", () => {
    const expected = executorTableDefinition("dhx-ci-executor");
    const sortBy = <T>(items: T[] | undefined, key: (item: T) => string) =>
      [...(items ?? [])].sort((a, b) => key(a).localeCompare(key(b)));
    expect(table.Properties.TableName).toBe(expected.TableName);
    expect(table.Properties.BillingMode).toBe(expected.BillingMode);
    expect(table.Properties.KeySchema).toEqual(expected.KeySchema);
    expect(
      sortBy(table.Properties.AttributeDefinitions as { AttributeName: string }[], (a) => a.AttributeName),
    ).toEqual(sortBy(expected.AttributeDefinitions as { AttributeName: string }[], (a) => a.AttributeName));
    expect(sortBy(table.Properties.GlobalSecondaryIndexes as { IndexName: string }[], (i) => i.IndexName)).toEqual(
      sortBy(expected.GlobalSecondaryIndexes as { IndexName: string }[], (i) => i.IndexName),
    );
  });

  it("on demand, point-in-time recovery, KMS encryption; a development stage may be deleted", () => {
    expect(table.Properties).toMatchObject({
      BillingMode: "PAY_PER_REQUEST",
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: "KMS" },
      DeletionProtectionEnabled: false,
    });
    expect(table.DeletionPolicy).toBe("Delete");
  });
});

describe("the task definition", () => {
  const taskDefinition = resource(template, "TaskDefinition").Properties;
  const containers = taskDefinition.ContainerDefinitions as Record<string, unknown>[];
  const container = containers[0] ?? {};

  it("Fargate, awsvpc, one family per stage, registered by the deploy", () => {
    expect(taskDefinition).toMatchObject({
      Family: "dhx-ci-ingestion",
      RequiresCompatibilities: ["FARGATE"],
      NetworkMode: "awsvpc",
    });
    expect(resourcesOfType(template, "AWS::ECS::TaskDefinition")).toHaveLength(1);
  });

  it('one container "ingestion": the stage\'s image, container memory set, 120 s to stop, logs to the run log group', () => {
    expect(containers).toHaveLength(1);
    expect(container).toMatchObject({
      Name: "ingestion",
      Image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/datahub-executor-task:ci",
      Essential: true,
      StopTimeout: 120,
      LogConfiguration: {
        LogDriver: "awslogs",
        Options: { "awslogs-group": { Ref: "RunLogGroup" }, "awslogs-stream-prefix": "run" },
      },
    });
    expect(container.Memory).toBeTypeOf("number");
  });

  it("secrets: the stage's NAME=ARN list, as given", () => {
    expect(container.Secrets).toEqual(
      Object.entries(stage.sourceSecrets)
        .map(([Name, ValueFrom]) => ({ Name, ValueFrom }))
        .sort((a, b) => a.Name.localeCompare(b.Name)),
    );
  });

  it("environment: stage, table, secret prefix, CLI installs, then the stage's extra variables", () => {
    expect(container.Environment).toEqual([
      { Name: "DHX_STAGE", Value: "ci" },
      { Name: "DHX_TABLE_NAME", Value: { Ref: "ExecutorTable" } },
      { Name: "DHX_SECRET_PREFIX", Value: "datahub-executor/ci/" },
      { Name: "DHX_CLI_INSTALLS", Value: "enabled" },
      { Name: "DATAHUB_DEBUG", Value: "false" },
    ]);
  });

  it("the functions launch exactly this task definition on this cluster", () => {
    const cluster = resource(template, "Cluster").Properties;
    expect(cluster.ClusterName).toBe("dhx-ci-cluster");
    for (const id of FUNCTIONS) {
      const variables = (resource(template, id).Properties.Environment as { Variables: Record<string, unknown> })
        .Variables;
      expect(refersTo(variables.DHX_TASK_DEFINITION, "TaskDefinition")).toBe(true);
    }
  });
});
