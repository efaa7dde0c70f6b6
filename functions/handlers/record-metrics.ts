import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { LaunchResult } from "../app/launch-run.js";

/** Metric names the stack's alarms and dashboard read (serverless.yml, docs/deploy.md). */
export const MetricName = {
  RUNS_ADMITTED: "RunsAdmitted",
  MESSAGES_REJECTED: "MessagesRejected",
  CANCEL_REQUESTS: "CancelRequests",
  TASKS_LAUNCHED: "TasksLaunched",
  LAUNCH_RETRIES: "LaunchRetries",
  LAUNCH_FAILURES: "LaunchFailures",
  RUNS_FINISHED: "RunsFinished",
  INFRASTRUCTURE_RETRIES: "InfrastructureRetries",
  GMS_OUTBOX_BACKLOG: "GmsOutboxBacklog",
  GMS_DELIVERY_FAILURES: "GmsDeliveryFailures",
  RUNS_STUCK: "RunsStuck",
  WEIGHT_IN_USE: "WeightInUse",
} as const;

export function countLaunches(metrics: Metrics, launches: readonly LaunchResult[]): void {
  for (const launch of launches) {
    if (launch.kind === "launched") metrics.addMetric(MetricName.TASKS_LAUNCHED, MetricUnit.Count, 1);
    if (launch.kind === "requeued") metrics.addMetric(MetricName.LAUNCH_RETRIES, MetricUnit.Count, 1);
    if (launch.kind === "failed") metrics.addMetric(MetricName.LAUNCH_FAILURES, MetricUnit.Count, 1);
  }
}

/** A metric with dimensions of its own (status, pool, class), beside the handler's shared ones. */
export function addDimensioned(
  metrics: Metrics,
  name: string,
  value: number,
  dimensions: Record<string, string>,
): void {
  const single = metrics.singleMetric();
  for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
  single.addMetric(name, MetricUnit.Count, value);
}

export function createMetrics(stage: string): Metrics {
  return new Metrics({ namespace: "DataHubServerlessExecutor", defaultDimensions: { stage } });
}
