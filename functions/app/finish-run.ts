import { RunStateChangedError } from "../core/errors.js";
import { isTerminal, type RunRecord, type RunState } from "../core/run-record.js";
import { deliverStatuses } from "./deliver-statuses.js";
import { type ExecutorDeps, loggerForRun } from "./executor-deps.js";
import { type ScheduleResult, schedulePool } from "./schedule-pool.js";

export type FinishResult = { released: boolean; run: RunRecord | undefined; schedule: ScheduleResult };

/**
 * Gives a run's weight back exactly once, with its final state, starts the next waiting runs of its pool in the
 * same call, then sends the status to DataHub. A second call for the same run (a duplicate event, a retry after
 * a crash) releases nothing and still runs the scheduler, which is harmless.
 */
export async function finishRun(
  deps: ExecutorDeps,
  runId: string,
  outcome: { state: RunState; reason: string },
): Promise<FinishResult> {
  if (!isTerminal(outcome.state)) throw new RangeError(`${outcome.state} is not a final state`);
  const run = await deps.runs.getRun(runId);
  if (run === undefined) throw new RunStateChangedError(runId, "known");
  let released = false;
  if (run.holdsCapacity) {
    try {
      await deps.runs.finish(run, outcome, deps.now());
      released = true;
      loggerForRun(deps.logger, run).info("run finished; weight released", {
        state: outcome.state,
        reason: outcome.reason,
      });
    } catch (error) {
      if (!(error instanceof RunStateChangedError)) throw error;
    }
  }
  const schedule = await schedulePool(deps, run.poolId, run.capacityClass);
  await deliverStatuses(deps, runId);
  return { released, run: await deps.runs.getRun(runId), schedule };
}
