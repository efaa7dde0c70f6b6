import { RunStateChangedError } from "../core/errors.js";
import { RunState } from "../core/run-record.js";
import { parseLaunchToken, type TaskStateChangeEvent } from "../core/task-state-change-event.js";
import { completeStoppedTask, type StoppedTaskResult } from "./complete-stopped-task.js";
import { deliverStatuses } from "./deliver-statuses.js";
import { type ExecutorDeps, loggerForRun } from "./executor-deps.js";

export type TaskStateChangeOutcome =
  | { kind: "ignored"; why: string }
  | { kind: "running" }
  | { kind: "stopped"; result: StoppedTaskResult };

/**
 * An ECS task changed state. Events come at least once and in any order, so each one is checked against the
 * run's own record: only the run's current attempt counts, RUNNING only moves a run that has not started, and a
 * STOPPED run's weight is released once, whatever came before.
 */
export async function handleTaskStateChange(
  deps: ExecutorDeps,
  event: TaskStateChangeEvent,
): Promise<TaskStateChangeOutcome> {
  const { detail } = event;
  const token = parseLaunchToken(detail.startedBy);
  if (token === undefined) return { kind: "ignored", why: "not a task of this executor" };
  const run = await deps.runs.getRun(token.runId);
  if (run === undefined) return { kind: "ignored", why: "unknown run" };
  if (run.launchAttempt !== token.attempt)
    return { kind: "ignored", why: `event of an earlier attempt (${token.attempt})` };
  const log = loggerForRun(deps.logger, { ...run, taskArn: detail.taskArn });

  if (detail.lastStatus === "STOPPED") {
    log.info("task stopped", {
      stopCode: detail.stopCode,
      stoppedReason: detail.stoppedReason,
      version: detail.version,
    });
    const result = await completeStoppedTask(deps, run, {
      ...(detail.stopCode === undefined ? {} : { stopCode: detail.stopCode }),
      ...(detail.stoppedReason === undefined ? {} : { stoppedReason: detail.stoppedReason }),
      containers: detail.containers,
    });
    return { kind: "stopped", result };
  }
  if (detail.lastStatus === "RUNNING") {
    if (run.state !== RunState.LAUNCHING && run.state !== RunState.LAUNCHED) {
      return { kind: "ignored", why: `RUNNING for a run that is ${run.state}` };
    }
    const startedAtMs = detail.startedAt === undefined ? deps.now() : Date.parse(detail.startedAt);
    try {
      await deps.runs.markRunning(run, { taskArn: detail.taskArn, startedAtMs }, deps.now());
    } catch (error) {
      if (!(error instanceof RunStateChangedError)) throw error;
      return { kind: "ignored", why: "the run moved on meanwhile" };
    }
    log.info("task running", { version: detail.version });
    await deliverStatuses(deps, run.runId);
    return { kind: "running" };
  }
  return { kind: "ignored", why: `status ${detail.lastStatus}` };
}
