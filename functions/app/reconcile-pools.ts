import { hostname } from "node:os";
import { RunStateChangedError } from "../core/errors.js";
import { type RunRecord, RunState } from "../core/run-record.js";
import { CapacityClass } from "../core/weights.js";
import { cancelRun, requestStop, stopTaskReason } from "./cancel-run.js";
import { completeStoppedTask } from "./complete-stopped-task.js";
import { deliverStatuses, drainOutbox } from "./deliver-statuses.js";
import { type ExecutorDeps, loggerForRun } from "./executor-deps.js";
import { type LaunchResult, LaunchUncertainError, launchAcquiredRun } from "./launch-run.js";
import type { TaskView } from "./ports.js";
import { type ScheduleResult, schedulePool } from "./schedule-pool.js";

/** A launch intent older than this has lost its launcher (a crash, a timeout): resume it. */
export const STALE_LAUNCH_MS = 2 * 60_000;
/** RUNNING is re-sent at least this often; DataHub Cloud marks a run ABORTED after an hour without one. */
export const RUNNING_REFRESH_MS = 9 * 60_000;
/** Kill signals are looked up for at most this many waiting runs per pool and class each pass. */
const WAITING_SIGNAL_CHECKS = 100;

export type ReconcileReport = {
  resumed: LaunchResult[];
  uncertain: { runId: string; reason: string }[];
  /** Runs whose end the reconciler found (the event was lost) or whose task ECS no longer knows. */
  finalized: { runId: string; how: string }[];
  stops: { runId: string; by: string }[];
  refreshed: number;
  schedules: ScheduleResult[];
  outbox: { runs: number; pendingAfter: number; unavailable: boolean };
  /** Each pool's and class's weight in use after the pass, for the dashboard. */
  weightInUse: { poolId: string; capacityClass: CapacityClass; usedMicro: number }[];
  errors: { runId?: string; poolId: string; error: string }[];
};

/**
 * The periodic safety net (every minute): finishes launches whose launcher died; finds tasks that stopped or
 * vanished while their event was lost; enforces run and start timeouts and DataHub's KILL signals; refreshes
 * RUNNING in DataHub; runs every pool's scheduler; drains the status outbox; reports each pool's health. One run's
 * or pool's trouble is recorded and never stops the rest.
 */
export async function reconcilePools(
  deps: ExecutorDeps,
  options: { releaseVersion?: string } = {},
): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    resumed: [],
    uncertain: [],
    finalized: [],
    stops: [],
    refreshed: 0,
    schedules: [],
    outbox: { runs: 0, pendingAfter: 0, unavailable: false },
    weightInUse: [],
    errors: [],
  };
  for (const pool of await deps.pools.list()) {
    const guard = async (runId: string | undefined, step: () => Promise<void>) => {
      try {
        await step();
      } catch (error) {
        report.errors.push({ ...(runId === undefined ? {} : { runId }), poolId: pool.id, error: String(error) });
        deps.logger.error("reconcile step failed", { pool: pool.id, runId, error: String(error) });
      }
    };
    const active = await deps.runs.listActiveRuns(pool.id);
    await guard(undefined, () => checkTasks(deps, active, report));
    for (const run of active) await guard(run.runId, () => reconcileRun(deps, run, report));
    for (const capacityClass of Object.values(CapacityClass)) {
      await guard(undefined, () => killWaiting(deps, pool.id, capacityClass));
      await guard(undefined, async () => {
        report.schedules.push(await schedulePool(deps, pool.id, capacityClass));
        const { usedMicro } = await deps.runs.readCapacity(pool.id, capacityClass);
        report.weightInUse.push({ poolId: pool.id, capacityClass, usedMicro });
      });
    }
    if (options.releaseVersion !== undefined) {
      const releaseVersion = options.releaseVersion;
      await guard(undefined, () =>
        deps.status.writeExecutorStatus(deps.stage, pool.id, {
          releaseVersion,
          uptimeSeconds: Math.round(process.uptime()),
          reportedAtSeconds: Math.floor(deps.now() / 1000),
          hostname: hostname(),
        }),
      );
    }
  }
  report.outbox = await drainOutbox(deps);
  return report;
}

/** What ECS says about the runs that have a task: stopped or gone (lost events), or running (a lost RUNNING). */
async function checkTasks(deps: ExecutorDeps, active: RunRecord[], report: ReconcileReport): Promise<void> {
  const withTask = active.filter((run) => run.taskArn !== undefined && run.state !== RunState.LAUNCHING);
  if (withTask.length === 0) return;
  const views = new Map<string, TaskView>(
    (await deps.launcher.describeTasks(withTask.map((run) => run.taskArn as string))).map((v) => [v.taskArn, v]),
  );
  for (const run of withTask) {
    const view = views.get(run.taskArn as string);
    if (view === undefined) continue;
    const log = loggerForRun(deps.logger, run);
    if (view.lastStatus === "STOPPED") {
      log.warn("the task stopped and its event never came; finishing the run from ECS's record");
      await completeStoppedTask(deps, run, view);
      report.finalized.push({ runId: run.runId, how: "stopped (event lost)" });
    } else if (view.lastStatus === "MISSING") {
      // ECS forgets stopped tasks after about an hour: how it ended can no longer be known.
      const reason = "the ECS task is gone and its end was never seen (lost events for over an hour)";
      try {
        await deps.runs.finish(run, { state: RunState.ABORTED, reason }, deps.now());
      } catch (error) {
        if (!(error instanceof RunStateChangedError)) throw error;
      }
      await schedulePool(deps, run.poolId, run.capacityClass);
      await deliverStatuses(deps, run.runId);
      report.finalized.push({ runId: run.runId, how: "aborted (task gone)" });
    } else if (view.lastStatus === "RUNNING" && run.state === RunState.LAUNCHED) {
      try {
        await deps.runs.markRunning(
          run,
          { taskArn: view.taskArn, startedAtMs: view.startedAtMs ?? deps.now() },
          deps.now(),
        );
        await deliverStatuses(deps, run.runId);
      } catch (error) {
        if (!(error instanceof RunStateChangedError)) throw error;
      }
    } else if (run.stopRequest !== undefined) {
      // Asked to stop but still alive: StopTask again (a no-op for a task already stopping).
      await deps.launcher.stopTask(view.taskArn, stopTaskReason(run.stopRequest));
    }
  }
}

async function reconcileRun(deps: ExecutorDeps, stale: RunRecord, report: ReconcileReport): Promise<void> {
  const run = await deps.runs.getRun(stale.runId);
  if (run === undefined || !run.holdsCapacity) return;
  const now = deps.now();
  if (run.state === RunState.LAUNCHING) {
    if (now - (run.launch?.intentAtMs ?? 0) < STALE_LAUNCH_MS) return;
    try {
      report.resumed.push(await launchAcquiredRun(deps, run, "resumed"));
    } catch (error) {
      if (!(error instanceof LaunchUncertainError)) throw error;
      report.uncertain.push({ runId: run.runId, reason: error.reason });
    }
    return;
  }
  const signal = await deps.status.readKillSignal(run.executionRequestUrn);
  if (signal?.signal === "KILL" && run.stopRequest === undefined) {
    await cancelRun(deps, run.executionRequestUrn, "KILL signal in DataHub");
    report.stops.push({ runId: run.runId, by: "cancel" });
    return;
  }
  if (run.stopRequest !== undefined) return;
  if (
    run.state === RunState.RUNNING &&
    run.startedAtMs !== undefined &&
    now - run.startedAtMs > run.runTimeoutSeconds * 1000
  ) {
    const reason = `running for more than ${run.runTimeoutSeconds} s (the run timeout)`;
    await requestStop(deps, run, { by: "timeout", atMs: now, reason });
    report.stops.push({ runId: run.runId, by: "timeout" });
    return;
  }
  const launchedAt = run.launchedAtMs ?? run.launch?.intentAtMs ?? now;
  if (run.state === RunState.LAUNCHED && now - launchedAt > run.startTimeoutSeconds * 1000) {
    const reason = `not RUNNING ${run.startTimeoutSeconds} s after launch (the start timeout)`;
    await requestStop(deps, run, { by: "start-timeout", atMs: now, reason });
    report.stops.push({ runId: run.runId, by: "start-timeout" });
    return;
  }
  if (run.state === RunState.RUNNING && now - (run.runningReportedAtMs ?? 0) >= RUNNING_REFRESH_MS) {
    try {
      await deps.runs.refreshRunning(run, now);
      report.refreshed++;
    } catch (error) {
      if (!(error instanceof RunStateChangedError)) throw error;
    }
  }
}

/** DataHub's "Cancel" on a run that is still waiting. */
async function killWaiting(deps: ExecutorDeps, poolId: string, capacityClass: CapacityClass): Promise<void> {
  for (const entry of await deps.runs.readQueue(poolId, capacityClass, WAITING_SIGNAL_CHECKS)) {
    const signal = await deps.status.readKillSignal(entry.executionRequestUrn);
    if (signal?.signal === "KILL") await cancelRun(deps, entry.executionRequestUrn, "KILL signal in DataHub");
  }
}
