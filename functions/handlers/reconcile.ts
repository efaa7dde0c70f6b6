import type { Metrics } from "@aws-lambda-powertools/metrics";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { ExecutorDeps } from "../app/executor-deps.js";
import { type ReconcileReport, reconcilePools } from "../app/reconcile-pools.js";
import { addDimensioned, countLaunches, MetricName } from "./record-metrics.js";

/** The scheduled reconcile Lambda (every minute). */
export function createReconcileHandler(deps: ExecutorDeps, releaseVersion?: string, metrics?: Metrics) {
  return async (): Promise<ReconcileReport> => {
    const report = await reconcilePools(deps, releaseVersion === undefined ? {} : { releaseVersion });
    if (metrics !== undefined) {
      metrics.addMetric(MetricName.GMS_OUTBOX_BACKLOG, MetricUnit.Count, report.outbox.pendingAfter);
      // Runs the pass could not move on: uncertain launches and failed steps (the errors say which).
      metrics.addMetric(MetricName.RUNS_STUCK, MetricUnit.Count, report.uncertain.length + report.errors.length);
      if (report.outbox.unavailable) metrics.addMetric(MetricName.GMS_DELIVERY_FAILURES, MetricUnit.Count, 1);
      for (const s of report.schedules) countLaunches(metrics, s.launches);
      for (const use of report.weightInUse) {
        addDimensioned(metrics, MetricName.WEIGHT_IN_USE, use.usedMicro / 1_000_000, {
          pool: use.poolId,
          class: use.capacityClass,
        });
      }
      metrics.publishStoredMetrics();
    }
    deps.logger.info("reconcile pass done", {
      resumed: report.resumed.length,
      uncertain: report.uncertain.length,
      finalized: report.finalized.length,
      stops: report.stops.length,
      refreshed: report.refreshed,
      outboxPending: report.outbox.pendingAfter,
      gmsUnavailable: report.outbox.unavailable,
      errors: report.errors.length,
      launched: report.schedules.reduce((n, s) => n + s.launches.filter((l) => l.kind === "launched").length, 0),
    });
    return report;
  };
}
