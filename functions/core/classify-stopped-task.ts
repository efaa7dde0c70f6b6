import { describeFargateSize, type FargateSize } from "./fargate-sizing.js";
import { TaskExitCode } from "./task-exit.js";

/** What ECS (and the task's own report, when it left one) says about a stopped task. */
export type StoppedTaskFacts = {
  stopCode?: string;
  stoppedReason?: string;
  containers: { name?: string; exitCode?: number; reason?: string }[];
  /** Set when the executor itself stopped the task (it records why before calling StopTask). */
  stopRequestedBy?: "cancel" | "timeout" | "start-timeout";
  /** The entrypoint's own one-line account, from its report item. */
  reportMessage?: string;
  memoryLimitKiB: number;
  fargate: FargateSize;
};

export type StoppedTaskClass =
  | { kind: "final"; status: "SUCCESS" | "FAILURE" | "CANCELLED" | "TIMEOUT"; reason: string }
  /** Not the run's fault: retried while attempts remain, then FAILURE with AWS's reason. */
  | { kind: "infrastructure"; reason: string };

/** Reasons AWS documents or users report as passing; aws-facts.md lists them. */
const INFRASTRUCTURE_REASONS = [
  /ResourceInitializationError/i,
  /CannotPullContainerError/i,
  /Timeout waiting for network interface provisioning/i,
  /Timeout waiting for EphemeralStorage provisioning/i,
  /CannotStartContainerError/i,
  /InternalError/i,
];
const INFRASTRUCTURE_STOP_CODES = new Set([
  "TaskFailedToStart",
  "SpotInterruption",
  "TerminationNotice",
  "InfrastructureHealth",
]);

/** One decision for every way a task can stop; the table-driven test lists them all. */
export function classifyStoppedTask(facts: StoppedTaskFacts): StoppedTaskClass {
  const main = facts.containers[0];
  const exitCode = main?.exitCode;
  const awsReason = [facts.stoppedReason, main?.reason].filter((s) => s !== undefined && s !== "").join("; ");

  if (facts.stopRequestedBy === "cancel") {
    return { kind: "final", status: "CANCELLED", reason: "cancelled on request" };
  }
  if (facts.stopRequestedBy === "timeout") {
    return { kind: "final", status: "TIMEOUT", reason: "stopped: the run went past its timeout" };
  }
  if (facts.stopRequestedBy === "start-timeout") {
    return { kind: "infrastructure", reason: "the task did not reach RUNNING within the start timeout" };
  }

  const oom = /OutOfMemory/i.test(main?.reason ?? "") || exitCode === 137 || exitCode === TaskExitCode.OUT_OF_MEMORY;
  if (oom) {
    return {
      kind: "final",
      status: "FAILURE",
      reason:
        `out of memory: the run exceeded its memory limit of ${facts.memoryLimitKiB} KiB ` +
        `(Fargate ${describeFargateSize(facts.fargate)}); raise EXECUTOR_TASK_MEMORY_LIMIT` +
        (awsReason === "" ? "" : ` (${awsReason})`),
    };
  }

  const stoppedByAws = facts.stopCode !== undefined && INFRASTRUCTURE_STOP_CODES.has(facts.stopCode);
  if (stoppedByAws || INFRASTRUCTURE_REASONS.some((pattern) => pattern.test(awsReason))) {
    return { kind: "infrastructure", reason: awsReason === "" ? `stopped by AWS (${facts.stopCode})` : awsReason };
  }

  if (exitCode === TaskExitCode.SUCCESS) return { kind: "final", status: "SUCCESS", reason: "ingestion succeeded" };
  if (exitCode === undefined) {
    return {
      kind: "final",
      status: "FAILURE",
      reason: `the task stopped without an exit code: ${awsReason || "no reason given"}`,
    };
  }
  if (exitCode === TaskExitCode.CANCELLED) {
    return {
      kind: "final",
      status: "FAILURE",
      reason: `the task was stopped outside the executor: ${awsReason || "SIGTERM"}`,
    };
  }
  const detail = facts.reportMessage ?? (awsReason === "" ? undefined : awsReason);
  return {
    kind: "final",
    status: "FAILURE",
    reason: `the task exited with code ${exitCode}${detail === undefined ? "" : `: ${detail}`}`,
  };
}
