import { classifyStoppedTask } from "../core/classify-stopped-task.js";
import { RunStateChangedError } from "../core/errors.js";
import { launchRetryDelayMs } from "../core/launch-outcome.js";
import { type RunRecord, RunState } from "../core/run-record.js";
import { type DeliveryResult, deliverStatuses } from "./deliver-statuses.js";
import { type ExecutorDeps, loggerForRun } from "./executor-deps.js";
import type { TaskView } from "./ports.js";
import { type ScheduleResult, schedulePool } from "./schedule-pool.js";

export type StoppedTaskResult = {
  outcome:
    | { kind: "finished"; state: RunState; reason: string }
    | { kind: "retrying"; reason: string }
    | { kind: "already-done" };
  schedule: ScheduleResult;
  delivery?: DeliveryResult;
};

/**
 * A run's task stopped (the STOPPED event, or the reconciler finding it stopped): classify how it ended, give the
 * weight back once (to end the run, or to retry an infrastructure failure while attempts remain), start the next
 * waiting runs, then send the status to DataHub. Every step is safe to repeat.
 */
export async function completeStoppedTask(
  deps: ExecutorDeps,
  run: RunRecord,
  task: Omit<TaskView, "taskArn" | "lastStatus">,
): Promise<StoppedTaskResult> {
  const log = loggerForRun(deps.logger, run);
  if (!run.holdsCapacity) {
    const schedule = await schedulePool(deps, run.poolId, run.capacityClass);
    return { outcome: { kind: "already-done" }, schedule, delivery: await deliverStatuses(deps, run.runId) };
  }
  const report = await deps.runs.getReport(run.runId, run.launchAttempt);
  const [main, ...others] = task.containers;
  // ECS may not know an exit code (moto never does); the task's own report does.
  const containers =
    main === undefined
      ? []
      : [
          { ...main, ...(main.exitCode === undefined && report !== undefined ? { exitCode: report.exitCode } : {}) },
          ...others,
        ];
  const verdict = classifyStoppedTask({
    ...(task.stopCode === undefined ? {} : { stopCode: task.stopCode }),
    ...(task.stoppedReason === undefined ? {} : { stoppedReason: task.stoppedReason }),
    containers,
    ...(run.stopRequest === undefined ? {} : { stopRequestedBy: run.stopRequest.by }),
    ...(report === undefined ? {} : { reportMessage: report.message }),
    memoryLimitKiB: run.memoryLimitKiB,
    fargate: run.fargate,
  });

  let outcome: StoppedTaskResult["outcome"];
  try {
    const failures = (run.infraFailures ?? 0) + 1;
    if (verdict.kind === "infrastructure" && failures < run.maxAttempts) {
      const notBeforeMs = deps.now() + launchRetryDelayMs(failures);
      await deps.runs.requeue(run, { cause: "infrastructure", reason: verdict.reason, notBeforeMs }, deps.now());
      outcome = { kind: "retrying", reason: verdict.reason };
      log.warn("the task stopped for a reason not of the run's making; retrying", { reason: verdict.reason, failures });
    } else {
      const final =
        verdict.kind === "final"
          ? { state: RunState[verdict.status], reason: verdict.reason }
          : { state: RunState.FAILURE, reason: `infrastructure failure after ${failures} attempts: ${verdict.reason}` };
      await deps.runs.finish(run, final, deps.now());
      outcome = { kind: "finished", ...final };
      log.info("run finished; weight released", { state: final.state, reason: final.reason });
    }
  } catch (error) {
    if (!(error instanceof RunStateChangedError)) throw error;
    outcome = { kind: "already-done" };
  }
  const schedule = await schedulePool(deps, run.poolId, run.capacityClass);
  return { outcome, schedule, delivery: await deliverStatuses(deps, run.runId) };
}
