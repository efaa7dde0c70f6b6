import { describe, expect, it } from "vitest";
import { buildAcquireTransaction, buildReleaseTransaction } from "../../functions/adapters/dynamodb/run-requests.js";
import { buildRunTaskInput, type LaunchSettings } from "../../functions/adapters/ecs/run-task-request.js";
import type { QueueEntry, RunRecord } from "../../functions/core/run-record.js";

const entry: QueueEntry = {
  poolId: "main",
  capacityClass: "INGESTION",
  queueKey: "1000#000001764300000000#0123456789abcdef01234567",
  runId: "0123456789abcdef01234567",
  executionRequestUrn: "urn:li:dataHubExecutionRequest:abc",
  weightMicro: 250_000,
  launchAttempt: 0,
};

const launchingRun: RunRecord = {
  runId: entry.runId,
  executionRequestUrn: entry.executionRequestUrn,
  poolId: "main",
  capacityClass: "INGESTION",
  task: "RUN_INGEST",
  priority: 0,
  weightMicro: 250_000,
  weightSource: "pool-default",
  memoryLimitKiB: 6 * 1024 * 1024,
  memoryLimitSource: "EXECUTOR_TASK_MEMORY_LIMIT",
  fargate: { cpu: 1024, memoryMiB: 6144 },
  runTimeoutSeconds: 28_800,
  startTimeoutSeconds: 900,
  maxAttempts: 2,
  secretNames: ["SNOWFLAKE_PASSWORD"],
  state: "LAUNCHING",
  stateChangedAtMs: 1_764_300_000_500,
  admittedAtMs: 1_764_300_000_000,
  queueKey: entry.queueKey,
  holdsCapacity: true,
  launchAttempt: 1,
  launchFailures: 0,
  launch: { attempt: 1, token: "dhx-0123456789abcdef01234567-1", intentAtMs: 1_764_300_000_500 },
  history: [],
};

describe("buildAcquireTransaction", () => {
  it("adds the weight under the cap, moves the run to LAUNCHING with a new attempt, and dequeues it", () => {
    expect(buildAcquireTransaction("t", entry, 1_764_300_000_500)).toEqual({
      TransactItems: [
        {
          Update: {
            TableName: "t",
            Key: { pk: "POOL#main", sk: "CAPACITY#INGESTION" },
            UpdateExpression: "SET usedMicro = usedMicro + :w, holders = holders + :one",
            ConditionExpression: "attribute_exists(pk) AND usedMicro <= :capMinusW",
            ExpressionAttributeValues: { ":w": 250_000, ":one": 1, ":capMinusW": 750_000 },
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          },
        },
        {
          Update: {
            TableName: "t",
            Key: { pk: `RUN#${entry.runId}`, sk: "RUN" },
            UpdateExpression:
              "SET #state = :launching, stateChangedAtMs = :now, holdsCapacity = :true, launchAttempt = :next, " +
              "launch = :launch, activityPk = :activityPk, activitySk = :runId, " +
              "history = list_append(if_not_exists(history, :noHistory), :history) REMOVE notBeforeMs",
            ConditionExpression: "#state = :waiting AND launchAttempt = :attempt",
            ExpressionAttributeNames: { "#state": "state" },
            ExpressionAttributeValues: {
              ":launching": "LAUNCHING",
              ":waiting": "WAITING",
              ":attempt": 0,
              ":next": 1,
              ":now": 1_764_300_000_500,
              ":true": true,
              ":launch": { attempt: 1, token: "dhx-0123456789abcdef01234567-1", intentAtMs: 1_764_300_000_500 },
              ":activityPk": "ACTIVE#main",
              ":runId": entry.runId,
              ":noHistory": [],
              ":history": [
                { atMs: 1_764_300_000_500, state: "LAUNCHING", reason: "weight acquired, launch attempt 1" },
              ],
            },
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          },
        },
        {
          Delete: {
            TableName: "t",
            Key: { pk: "QUEUE#main#INGESTION", sk: entry.queueKey },
            ConditionExpression: "attribute_exists(pk)",
          },
        },
      ],
    });
  });

  it("compares against cap - w computed in code, never arithmetic in the condition", () => {
    const tx = buildAcquireTransaction("t", { ...entry, weightMicro: 1_000_000 }, 0);
    const update = tx.TransactItems?.[0]?.Update;
    expect(update?.ConditionExpression).not.toMatch(/[-+]/);
    expect(update?.ExpressionAttributeValues?.[":capMinusW"]).toBe(0);
  });
});

describe("buildReleaseTransaction", () => {
  it("releases only if the run still holds weight for this attempt", () => {
    const tx = buildReleaseTransaction("t", launchingRun, { state: "SUCCESS", reason: "ok" }, 5);
    expect(tx.TransactItems?.[0]?.Update).toEqual({
      TableName: "t",
      Key: { pk: "POOL#main", sk: "CAPACITY#INGESTION" },
      UpdateExpression: "SET usedMicro = usedMicro - :w, holders = holders - :one",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeValues: { ":w": 250_000, ":one": 1 },
    });
    const run = tx.TransactItems?.[1]?.Update;
    expect(run?.ConditionExpression).toBe("holdsCapacity = :true AND launchAttempt = :attempt");
    expect(run?.ExpressionAttributeValues?.[":attempt"]).toBe(1);
    expect(run?.UpdateExpression).toContain("REMOVE activityPk, activitySk");
  });
});

describe("buildRunTaskInput", () => {
  const settings: LaunchSettings = {
    stage: "prod",
    cluster: "arn:aws:ecs:us-east-1:123456789012:cluster/dhx-prod",
    taskDefinition: "arn:aws:ecs:us-east-1:123456789012:task-definition/dhx-prod-ingestion:7",
    containerName: "ingestion",
    subnets: ["subnet-a", "subnet-b"],
    securityGroups: ["sg-1"],
    assignPublicIp: "DISABLED",
  };

  it("builds one FARGATE task with the size at both levels and ids only in overrides", () => {
    expect(buildRunTaskInput(launchingRun, settings)).toEqual({
      cluster: settings.cluster,
      taskDefinition: settings.taskDefinition,
      launchType: "FARGATE",
      count: 1,
      clientToken: "dhx-0123456789abcdef01234567-1",
      startedBy: "dhx-0123456789abcdef01234567-1",
      group: "dhx-pool:main",
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ["subnet-a", "subnet-b"],
          securityGroups: ["sg-1"],
          assignPublicIp: "DISABLED",
        },
      },
      overrides: {
        cpu: "1024",
        memory: "6144",
        containerOverrides: [
          {
            name: "ingestion",
            cpu: 1024,
            memory: 6144,
            environment: [
              { name: "DHX_RUN_ID", value: entry.runId },
              { name: "DHX_EXECUTION_REQUEST_URN", value: entry.executionRequestUrn },
              { name: "DHX_POOL", value: "main" },
              { name: "DHX_LAUNCH_ATTEMPT", value: "1" },
            ],
          },
        ],
      },
      tags: [
        { key: "dhx:run-id", value: entry.runId },
        { key: "dhx:execution-request-urn", value: entry.executionRequestUrn },
        { key: "dhx:pool", value: "main" },
        { key: "dhx:stage", value: "prod" },
        { key: "dhx:launch-attempt", value: "1" },
      ],
      enableECSManagedTags: true,
      propagateTags: "TASK_DEFINITION",
    });
  });

  it("stays within ECS's limits: startedBy <= 36 characters, overrides far below 8,192", () => {
    const input = buildRunTaskInput(
      {
        ...launchingRun,
        launchAttempt: 9999,
        launch: { attempt: 9999, token: "dhx-0123456789abcdef01234567-9999", intentAtMs: 0 },
      },
      settings,
    );
    expect(input.startedBy?.length).toBeLessThanOrEqual(36);
    expect(JSON.stringify(input.overrides).length).toBeLessThan(1024);
  });

  it("refuses a run without a launch intent", () => {
    const { launch: _launch, ...withoutLaunch } = launchingRun;
    expect(() => buildRunTaskInput(withoutLaunch, settings)).toThrow(/no launch intent/);
  });
});
