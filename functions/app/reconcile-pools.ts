import { RunState } from "../core/run-record.js";
import { CapacityClass } from "../core/weights.js";
import type { ExecutorDeps } from "./executor-deps.js";
import { type LaunchResult, LaunchUncertainError, launchAcquiredRun } from "./launch-run.js";
import { type ScheduleResult, schedulePool } from "./schedule-pool.js";

/** A launch intent older than this has lost its launcher (a crash, a timeout): resume it. */
export const STALE_LAUNCH_MS = 2 * 60_000;

export type ReconcileReport = {
  resumed: LaunchResult[];
  uncertain: { runId: string; reason: string }[];
  schedules: ScheduleResult[];
};

/**
 * The periodic safety net: finishes launches whose launcher died, and runs every pool's scheduler so that
 * runs waiting out a launch backoff start when it ends. One pool's trouble never stops the others.
 */
export async function reconcilePools(deps: ExecutorDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = { resumed: [], uncertain: [], schedules: [] };
  for (const pool of await deps.pools.list()) {
    for (const run of await deps.runs.listActiveRuns(pool.id)) {
      const stale = run.state === RunState.LAUNCHING && deps.now() - (run.launch?.intentAtMs ?? 0) >= STALE_LAUNCH_MS;
      if (!stale) continue;
      try {
        report.resumed.push(await launchAcquiredRun(deps, run, "resumed"));
      } catch (error) {
        if (!(error instanceof LaunchUncertainError)) throw error;
        report.uncertain.push({ runId: run.runId, reason: error.reason });
      }
    }
    for (const capacityClass of Object.values(CapacityClass)) {
      report.schedules.push(await schedulePool(deps, pool.id, capacityClass));
    }
  }
  return report;
}
