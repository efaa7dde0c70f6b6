import type { ExecutorDeps } from "../app/executor-deps.js";
import { type ReconcileReport, reconcilePools } from "../app/reconcile-pools.js";

/** The scheduled reconcile Lambda (every minute). */
export function createReconcileHandler(deps: ExecutorDeps) {
  return async (): Promise<ReconcileReport> => {
    const report = await reconcilePools(deps);
    deps.logger.info("reconcile pass done", {
      resumed: report.resumed.length,
      uncertain: report.uncertain.length,
      launched: report.schedules.reduce((n, s) => n + s.launches.filter((l) => l.kind === "launched").length, 0),
    });
    return report;
  };
}
