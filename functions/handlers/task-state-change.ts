import type { Metrics } from "@aws-lambda-powertools/metrics";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { ExecutorDeps } from "../app/executor-deps.js";
import { handleTaskStateChange, type TaskStateChangeOutcome } from "../app/handle-task-state-change.js";
import { TaskStateChangeEvent } from "../core/task-state-change-event.js";
import { addDimensioned, countLaunches, MetricName } from "./record-metrics.js";

/** The task-state-change Lambda, on the EventBridge rule for this cluster's ECS Task State Change events. */
export function createTaskStateChangeHandler(deps: ExecutorDeps, metrics?: Metrics) {
  return async (event: unknown): Promise<TaskStateChangeOutcome> => {
    const outcome = await handleTaskStateChange(deps, TaskStateChangeEvent.parse(event));
    if (metrics !== undefined && outcome.kind === "stopped") {
      const { result } = outcome;
      if (result.outcome.kind === "finished") {
        addDimensioned(metrics, MetricName.RUNS_FINISHED, 1, { status: result.outcome.state });
      }
      if (result.outcome.kind === "retrying") metrics.addMetric(MetricName.INFRASTRUCTURE_RETRIES, MetricUnit.Count, 1);
      if (result.delivery?.kind === "gms-unavailable")
        metrics.addMetric(MetricName.GMS_DELIVERY_FAILURES, MetricUnit.Count, 1);
      countLaunches(metrics, result.schedule.launches);
      metrics.publishStoredMetrics();
    }
    return outcome;
  };
}
