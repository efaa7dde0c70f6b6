import { classifyStoppedTask } from "../core/classify-stopped-task.js";
import { RunState } from "../core/run-record.js";
import { parseLaunchToken, type TaskStateChangeEvent } from "../core/task-state-change-event.js";
import type { ExecutorDeps } from "./executor-deps.js";
import { type FinishResult, finishRun } from "./finish-run.js";

export type TaskStateChangeOutcome = { kind: "ignored"; why: string } | { kind: "finished"; finish: FinishResult };

/**
 * An ECS task changed state. For a STOPPED task of the run's current attempt: classify how it ended, give the
 * weight back once and start the next waiting runs, all in this invocation.
 */
export async function handleTaskStateChange(
  deps: ExecutorDeps,
  event: TaskStateChangeEvent,
): Promise<TaskStateChangeOutcome> {
  const { detail } = event;
  const token = parseLaunchToken(detail.startedBy);
  if (token === undefined) return { kind: "ignored", why: "not a task of this executor" };
  if (detail.lastStatus !== "STOPPED") return { kind: "ignored", why: `status ${detail.lastStatus}` };
  const run = await deps.runs.getRun(token.runId);
  if (run === undefined) return { kind: "ignored", why: "unknown run" };
  if (run.launchAttempt !== token.attempt) return { kind: "ignored", why: `stale attempt ${token.attempt}` };
  const verdict = classifyStoppedTask({
    ...(detail.stopCode === undefined ? {} : { stopCode: detail.stopCode }),
    ...(detail.stoppedReason === undefined ? {} : { stoppedReason: detail.stoppedReason }),
    containers: detail.containers,
    memoryLimitKiB: run.memoryLimitKiB,
    fargate: run.fargate,
  });
  const outcome =
    verdict.kind === "final"
      ? { state: RunState[verdict.status], reason: verdict.reason }
      : { state: RunState.FAILURE, reason: `infrastructure failure: ${verdict.reason}` };
  return { kind: "finished", finish: await finishRun(deps, run.runId, outcome) };
}
