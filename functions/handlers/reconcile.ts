import type { ExecutorDeps } from "../app/executor-deps.js";
import { type ReconcileReport, reconcilePools } from "../app/reconcile-pools.js";

/** The scheduled reconcile Lambda (every minute). */
export function createReconcileHandler(deps: ExecutorDeps, releaseVersion?: string) {
  return async (): Promise<ReconcileReport> => {
    const report = await reconcilePools(deps, releaseVersion === undefined ? {} : { releaseVersion });
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
