import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadStackSettings } from "../../functions/config/stages/stage-config.js";
import { readTemplate, refersTo, resource, resourcesOfType } from "./packaged-template.js";

const template = readTemplate();
const stage = loadStackSettings("ci", join(import.meta.dirname, "../../functions/config/stages"));
const alarms = resourcesOfType(template, "AWS::CloudWatch::Alarm").map(([, alarm]) => alarm.Properties);

/** The metric names the code emits (Powertools Metrics), and the ones the completion work adds. */
const EMITTED_METRICS = [
  "RunsAdmitted",
  "MessagesRejected",
  "TasksLaunched",
  "LaunchRetries",
  "LaunchFailures",
  "RunsSucceeded",
  "RunsFailed",
  "GmsDeliveryFailures",
  "GmsOutboxBacklog",
  "RunsStuck",
];
const CUSTOM_DIMENSIONS = [
  { Name: "service", Value: "DataHubServerlessExecutor" },
  { Name: "stage", Value: "ci" },
];

function alarmOn(namespace: string, metric: string) {
  const found = alarms.filter((a) => a.Namespace === namespace && a.MetricName === metric);
  expect(found, `alarms on ${namespace} ${metric}`).not.toHaveLength(0);
  return found;
}

describe("alarms", () => {
  it("the dead-letter queue is not empty", () => {
    const [alarm] = alarmOn("AWS/SQS", "ApproximateNumberOfMessagesVisible");
    expect(alarm?.Dimensions).toEqual([
      { Name: "QueueName", Value: { "Fn::GetAtt": ["IntakeDeadLetterQueue", "QueueName"] } },
    ]);
    expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: "GreaterThanThreshold" });
  });

  it.each([
    ["RunsStuck", 0],
    ["GmsOutboxBacklog", stage.alarms.gmsOutboxBacklogThreshold],
    ["LaunchFailures", 0],
  ])("%s above %d, on the dimensions Powertools emits (service and stage)", (metric, threshold) => {
    const [alarm] = alarmOn("DataHubServerlessExecutor", metric);
    expect(alarm?.Dimensions).toEqual(CUSTOM_DIMENSIONS);
    expect(alarm).toMatchObject({ Threshold: threshold, ComparisonOperator: "GreaterThanThreshold" });
  });

  it("Lambda errors, one alarm per function", () => {
    const errors = alarmOn("AWS/Lambda", "Errors");
    const functions = errors.map((a) => (a.Dimensions as { Value: unknown }[])[0]?.Value);
    for (const id of [
      "DispatchLambdaFunction",
      "TaskStateChangeLambdaFunction",
      "ReconcileLambdaFunction",
      "IntakeLambdaFunction",
    ]) {
      expect(functions.some((value) => refersTo(value, id))).toBe(true);
    }
  });

  it("custom metric alarms use only names the code emits", () => {
    for (const alarm of alarms.filter((a) => a.Namespace === "DataHubServerlessExecutor")) {
      expect(EMITTED_METRICS).toContain(alarm.MetricName);
    }
  });

  it("every alarm notifies the stage's topic, and says so when it recovers", () => {
    expect(alarms).toHaveLength(8);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([{ Ref: "AlarmTopic" }]);
      expect(alarm.OKActions).toEqual([{ Ref: "AlarmTopic" }]);
      expect(alarm.TreatMissingData).toBe("notBreaching");
    }
    expect(resource(template, "AlarmTopic").Properties.Subscription).toEqual([
      { Protocol: "email", Endpoint: "oncall@example.com" },
    ]);
  });
});

describe("intake", () => {
  it("a failed minute is not retried (the next one polls), and three failed minutes raise its alarm", () => {
    const config = resourcesOfType(template, "AWS::Lambda::EventInvokeConfig").filter(([, c]) =>
      refersTo(c.Properties.FunctionName, "IntakeLambdaFunction"),
    );
    expect(config.map(([, c]) => c.Properties.MaximumRetryAttempts)).toEqual([0]);
    const [alarm] = alarms.filter((a) => a.AlarmName === "dhx-ci-intake-errors");
    expect(alarm).toMatchObject({ Period: 60, EvaluationPeriods: 3, Threshold: 0, MetricName: "Errors" });
    const timeline = resourcesOfType(template, "AWS::Logs::QueryDefinition")
      .map(([, q]) => q.Properties)
      .find((q) => String(q.Name).includes("one run's timeline"));
    expect(((timeline?.LogGroupNames ?? []) as unknown[]).some((g) => refersTo(g, "IntakeLogGroup"))).toBe(true);
  });
});

describe("dashboard", () => {
  const body = JSON.parse(resource(template, "Dashboard").Properties.DashboardBody as string) as {
    widgets: { properties: { title: string; region: string; metrics: unknown[][] } }[];
  };
  const titles = body.widgets.map((w) => w.properties.title);
  const text = JSON.stringify(body);

  it("shows queue depth, weight per pool, launches, outcomes and GMS delivery", () => {
    for (const title of ["Queue depth", "Weight in use per pool", "Launches", "Run outcomes", "GMS delivery"]) {
      expect(
        titles.some((t) => t.startsWith(title)),
        title,
      ).toBe(true);
    }
  });

  it("plots every emitted metric of this stage, and this stage's queues and functions", () => {
    for (const metric of EMITTED_METRICS)
      expect(text).toContain(
        `"DataHubServerlessExecutor","${metric}","service","DataHubServerlessExecutor","stage","ci"`,
      );
    for (const name of [
      "dhx-ci-intake",
      "dhx-ci-intake-dlq",
      "dhx-ci-dispatch",
      "dhx-ci-task-state-change",
      "dhx-ci-reconcile",
    ]) {
      expect(text).toContain(`"${name}"`);
    }
    for (const widget of body.widgets) expect(widget.properties.region).toBe("us-east-1");
  });
});

describe("Logs Insights saved queries", () => {
  const queries = resourcesOfType(template, "AWS::Logs::QueryDefinition").map(([, q]) => q.Properties);

  it.each([
    ["dhx-ci/one run's timeline by execution request URN", "executionRequestUrn"],
    ["dhx-ci/failures in the last 24 h by reason", "stats count(*)"],
    ["dhx-ci/runs waiting and why", "waitCause"],
  ])("%s", (name, fragment) => {
    const query = queries.find((q) => q.Name === name);
    expect(query?.QueryString).toContain(fragment);
    expect(((query?.LogGroupNames ?? []) as unknown[]).some((g) => refersTo(g, "DispatchLogGroup"))).toBe(true);
  });
});

describe("the example stage (what users copy): production", () => {
  const example = readTemplate("example");

  it("keeps the table: deletion protection on, retained on stack deletion and replacement", () => {
    const table = resource(example, "ExecutorTable");
    expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    expect(table.DeletionPolicy).toBe("Retain");
    expect((table as { UpdateReplacePolicy?: string }).UpdateReplacePolicy).toBe("Retain");
  });

  it("names its resources after its stage", () => {
    expect(resource(example, "IntakeQueue").Properties.QueueName).toBe("dhx-example-intake");
    expect(resource(example, "TaskDefinition").Properties.Family).toBe("dhx-example-ingestion");
  });
});
