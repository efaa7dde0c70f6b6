import { RunStateChangedError } from "../core/errors.js";
import { runIdFor } from "../core/plan-run.js";
import { isTerminal, type RunRecord, RunState, type StopRequest } from "../core/run-record.js";
import { NO_ACTIVE_EXECUTION } from "../core/status-outbox.js";
import { deliverStatuses } from "./deliver-statuses.js";
import { type ExecutorDeps, loggerForRun } from "./executor-deps.js";

export type CancelOutcome =
  | { kind: "cancelled-waiting" }
  | { kind: "stopping"; taskArn?: string }
  | { kind: "already-stopping" }
  | { kind: "already-finished"; state: RunState }
  | { kind: "unknown" };

/** StopTask reasons start with this, so anyone reading ECS sees the stop was the executor's. */
export const STOP_REASON_PREFIX = "dhx:";

/**
 * Cancels a run, from a cancel message or a KILL signal in DataHub. A waiting run leaves its queue and is
 * CANCELLED at once; a started one gets StopTask (its STOPPED event, or the reconciler, makes it CANCELLED); an
 * unknown one is answered CANCELLED "No active execution request found." as DataHub's executor does; a finished one
 * is left as it ended (DataHub's executor would overwrite a FAILURE with CANCELLED; that loses the real outcome).
 */
export async function cancelRun(
  deps: ExecutorDeps,
  executionRequestUrn: string,
  reason: string,
): Promise<CancelOutcome> {
  const runId = runIdFor(executionRequestUrn);
  const run = await deps.runs.getRun(runId);
  if (run === undefined) {
    await deps.runs.recordClosedRun(
      { runId, executionRequestUrn, state: "CANCELLED", reason: NO_ACTIVE_EXECUTION },
      deps.now(),
    );
    await deliverStatuses(deps, runId);
    return { kind: "unknown" };
  }
  const log = loggerForRun(deps.logger, run);
  if (isTerminal(run.state)) return { kind: "already-finished", state: run.state };
  if (run.state === RunState.WAITING) {
    try {
      await deps.runs.cancelWaiting(run, `cancelled while waiting: ${reason}`, deps.now());
    } catch (error) {
      if (!(error instanceof RunStateChangedError)) throw error;
      // It started meanwhile: cancel it as a started run.
      const fresh = await deps.runs.getRun(runId);
      return fresh === undefined
        ? { kind: "unknown" }
        : requestStop(deps, fresh, { by: "cancel", atMs: deps.now(), reason });
    }
    log.info("waiting run cancelled", { reason });
    await deliverStatuses(deps, runId);
    return { kind: "cancelled-waiting" };
  }
  return requestStop(deps, run, { by: "cancel", atMs: deps.now(), reason });
}

/**
 * Records why the executor stops the run, then calls StopTask. Without a task yet (LAUNCHING), the launcher sees
 * the request when RunTask answers and stops the task then. Safe to repeat: StopTask on a stopping task is a no-op.
 */
export async function requestStop(deps: ExecutorDeps, run: RunRecord, stop: StopRequest): Promise<CancelOutcome> {
  let current: RunRecord;
  try {
    current = await deps.runs.requestStop(run, stop);
  } catch (error) {
    if (!(error instanceof RunStateChangedError)) throw error;
    const fresh = await deps.runs.getRun(run.runId);
    if (fresh === undefined) return { kind: "unknown" };
    if (isTerminal(fresh.state)) return { kind: "already-finished", state: fresh.state };
    return { kind: "already-stopping" };
  }
  loggerForRun(deps.logger, current).info("stopping the run's task", { by: stop.by, reason: stop.reason });
  if (current.taskArn === undefined) return { kind: "stopping" };
  await deps.launcher.stopTask(current.taskArn, stopTaskReason(stop));
  return { kind: "stopping", taskArn: current.taskArn };
}

export function stopTaskReason(stop: StopRequest): string {
  return `${STOP_REASON_PREFIX} ${stop.by}: ${stop.reason}`;
}
