import { RunStateChangedError } from "../core/errors.js";
import { decideLaunch, LAUNCH_RETRY, launchRetryDelayMs } from "../core/launch-outcome.js";
import { type RunRecord, RunState } from "../core/run-record.js";
import { stopTaskReason } from "./cancel-run.js";
import { type ExecutorDeps, loggerForRun } from "./executor-deps.js";

export type LaunchResult =
  | { kind: "launched"; runId: string; taskArn: string }
  | { kind: "requeued"; runId: string; reason: string; notBeforeMs: number }
  | { kind: "failed"; runId: string; reason: string }
  /** Another invocation finished this attempt first; nothing left to do here. */
  | { kind: "superseded"; runId: string };

/** RunTask answered something that does not prove whether a task exists; the run stays LAUNCHING. */
export class LaunchUncertainError extends Error {
  override readonly name = "LaunchUncertainError" as const;
  constructor(
    readonly runId: string,
    readonly reason: string,
  ) {
    super(`launch of run ${runId} is uncertain: ${reason}`);
  }
}

/**
 * Launches a run that holds its weight (state LAUNCHING). Safe to repeat: when resuming an attempt someone
 * else started, it first looks for the task an earlier try made, then calls RunTask with the attempt's
 * clientToken. An intent this very invocation just recorded has had no earlier try, so that lookup is skipped.
 */
export async function launchAcquiredRun(
  deps: ExecutorDeps,
  run: RunRecord,
  intent: "fresh" | "resumed",
): Promise<LaunchResult> {
  const log = loggerForRun(deps.logger, run);
  if (run.state !== RunState.LAUNCHING || run.launch === undefined) {
    throw new RunStateChangedError(run.runId, "launching");
  }
  const existing = intent === "resumed" ? await deps.launcher.findTask(run.launch.token) : undefined;
  if (existing !== undefined) {
    log.info("found the task of an earlier try of this launch attempt", {
      taskArn: existing,
      attempt: run.launchAttempt,
    });
    return recordLaunched(deps, run, existing);
  }
  const decision = decideLaunch(await deps.launcher.runTask(run));
  switch (decision.kind) {
    case "launched":
      return recordLaunched(deps, run, decision.taskArn);
    case "retry": {
      const failures = run.launchFailures + 1;
      if (failures >= LAUNCH_RETRY.maxFailures) {
        return failLaunch(deps, run, `launch failed ${failures} times; the last failure: ${decision.reason}`);
      }
      const notBeforeMs = deps.now() + launchRetryDelayMs(failures);
      try {
        await deps.runs.requeue(run, { cause: "launch", reason: decision.reason, notBeforeMs }, deps.now());
      } catch (error) {
        if (error instanceof RunStateChangedError) return { kind: "superseded", runId: run.runId };
        throw error;
      }
      log.warn("launch failed; weight released and the run requeued", {
        reason: decision.reason,
        notBeforeMs,
        failures,
      });
      return { kind: "requeued", runId: run.runId, reason: decision.reason, notBeforeMs };
    }
    case "reject":
      return failLaunch(deps, run, `ECS refused to launch the task: ${decision.reason}`);
    case "ambiguous":
      log.error("launch outcome unknown; the run stays LAUNCHING and will be resumed", { reason: decision.reason });
      throw new LaunchUncertainError(run.runId, decision.reason);
  }
}

async function recordLaunched(deps: ExecutorDeps, run: RunRecord, taskArn: string): Promise<LaunchResult> {
  let launched: RunRecord;
  try {
    launched = await deps.runs.recordLaunched(run, taskArn, deps.now());
  } catch (error) {
    if (error instanceof RunStateChangedError) return { kind: "superseded", runId: run.runId };
    throw error;
  }
  const log = loggerForRun(deps.logger, { ...run, taskArn });
  log.info("task launched", {
    attempt: run.launchAttempt,
    cpu: run.fargate.cpu,
    memoryMiB: run.fargate.memoryMiB,
    weightMicro: run.weightMicro,
  });
  // Cancelled or timed out while RunTask was under way: stop the task it just made.
  if (launched.stopRequest !== undefined) {
    await deps.launcher.stopTask(taskArn, stopTaskReason(launched.stopRequest));
    log.info("stopped the new task: a stop was requested during its launch", { by: launched.stopRequest.by });
  }
  return { kind: "launched", runId: run.runId, taskArn };
}

async function failLaunch(deps: ExecutorDeps, run: RunRecord, reason: string): Promise<LaunchResult> {
  try {
    await deps.runs.failLaunch(run, reason, deps.now());
  } catch (error) {
    if (error instanceof RunStateChangedError) return { kind: "superseded", runId: run.runId };
    throw error;
  }
  loggerForRun(deps.logger, run).error("launch failed for good; weight released", { reason });
  return { kind: "failed", runId: run.runId, reason };
}
