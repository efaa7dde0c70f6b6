/**
 * The CloudWatch dashboard of one stage, as the JSON body CloudFormation takes. Every name in it is known at
 * package time (the stage fixes the region and the resource names), so it needs no intrinsic functions.
 */
const NAMESPACE = "DataHubServerlessExecutor";

type Names = { region: string; stage: string; prefix: string };

export function executorDashboardBody({ region, stage, prefix }: Names): string {
  const custom = (metric: string, stat: "Sum" | "Maximum", label = metric) => [
    NAMESPACE,
    metric,
    "service",
    NAMESPACE,
    "stage",
    stage,
    { stat, label },
  ];
  const lambda = (metric: string, fn: string, stat: string) => [
    "AWS/Lambda",
    metric,
    "FunctionName",
    `${prefix}-${fn}`,
    { stat, label: `${fn} ${metric}` },
  ];
  const queue = (metric: string, name: string, label: string) => [
    "AWS/SQS",
    metric,
    "QueueName",
    name,
    { stat: "Maximum", label },
  ];
  const widget = (title: string, x: number, y: number, properties: Record<string, unknown>) => ({
    type: "metric",
    x,
    y,
    width: 12,
    height: 6,
    properties: { title, region, period: 300, view: "timeSeries", stacked: false, ...properties },
  });
  const fns = ["dispatch", "task-state-change", "reconcile"];
  const body = {
    widgets: [
      widget("Queue depth", 0, 0, {
        metrics: [
          queue("ApproximateNumberOfMessagesVisible", `${prefix}-intake`, "intake waiting"),
          queue("ApproximateNumberOfMessagesNotVisible", `${prefix}-intake`, "intake in flight"),
          queue("ApproximateNumberOfMessagesVisible", `${prefix}-intake-dlq`, "dead-letter queue"),
          queue("ApproximateAgeOfOldestMessage", `${prefix}-intake`, "oldest intake message (s)"),
        ],
      }),
      widget("Weight in use per pool (1,000,000 = the whole budget)", 12, 0, {
        metrics: [
          [
            {
              expression: `SEARCH('{${NAMESPACE},service,stage,pool,class} MetricName="WeightInUse" stage="${stage}"', 'Maximum', 300)`,
              id: "weight",
            },
          ],
        ],
      }),
      widget("Launches", 0, 6, {
        metrics: [custom("TasksLaunched", "Sum"), custom("LaunchRetries", "Sum"), custom("LaunchFailures", "Sum")],
      }),
      widget("Run outcomes", 12, 6, {
        metrics: [
          custom("RunsAdmitted", "Sum"),
          custom("RunsSucceeded", "Sum"),
          custom("RunsFailed", "Sum"),
          custom("RunsStuck", "Maximum"),
          custom("MessagesRejected", "Sum"),
        ],
      }),
      widget("GMS delivery", 0, 12, {
        metrics: [custom("GmsDeliveryFailures", "Sum"), custom("GmsOutboxBacklog", "Maximum")],
      }),
      widget("Lambda errors and throttles", 12, 12, {
        metrics: fns.flatMap((fn) => [lambda("Errors", fn, "Sum"), lambda("Throttles", fn, "Sum")]),
      }),
      widget("Lambda duration p99 (ms)", 0, 18, {
        metrics: fns.map((fn) => lambda("Duration", fn, "p99")),
      }),
    ],
  };
  return JSON.stringify(body);
}
