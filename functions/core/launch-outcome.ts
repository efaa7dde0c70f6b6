/**
 * What a RunTask answer means for the run, decided without AWS types so every branch is testable.
 * Only answers that prove no task was created may release the weight; anything ambiguous keeps the
 * run LAUNCHING, to be resumed (ListTasks by startedBy, then RunTask with the same clientToken).
 */
export type RunTaskAnswer =
  | { kind: "response"; taskArns: string[]; failures: { reason?: string; detail?: string }[] }
  | { kind: "error"; name: string; message: string };

export type LaunchDecision =
  | { kind: "launched"; taskArn: string }
  | { kind: "retry"; reason: string }
  | { kind: "reject"; reason: string }
  | { kind: "ambiguous"; reason: string };

const RETRYABLE_ERRORS = new Set(["ThrottlingException", "ServiceUnavailableException", "LimitExceededException"]);
const PERMANENT_ERRORS = new Set([
  "ClientException",
  "InvalidParameterException",
  "AccessDeniedException",
  "ClusterNotFoundException",
  "PlatformUnknownException",
  "PlatformTaskDefinitionIncompatibilityException",
  "UnsupportedFeatureException",
  "BlockedException",
]);

export function decideLaunch(answer: RunTaskAnswer): LaunchDecision {
  if (answer.kind === "response") {
    const [taskArn] = answer.taskArns;
    if (taskArn !== undefined) return { kind: "launched", taskArn };
    const failure = answer.failures[0];
    if (failure === undefined) return { kind: "ambiguous", reason: "RunTask returned neither a task nor a failure" };
    // Placement failures (capacity unavailable, vCPU quota, ...) come back in failures[] with HTTP 200.
    const text = [failure.reason, failure.detail].filter((s) => s !== undefined && s !== "").join(": ");
    return { kind: "retry", reason: `RunTask failure: ${text || "no reason given"}` };
  }
  const text = `${answer.name}: ${answer.message}`;
  // ECS wraps EC2 throttles as InvalidParameterException "... Rate exceeded".
  if (RETRYABLE_ERRORS.has(answer.name) || /rate exceeded/i.test(answer.message)) {
    return { kind: "retry", reason: text };
  }
  if (PERMANENT_ERRORS.has(answer.name)) return { kind: "reject", reason: text };
  return { kind: "ambiguous", reason: text };
}

export const LAUNCH_RETRY = {
  firstDelayMs: 30_000,
  maxDelayMs: 15 * 60_000,
  /** About 1 h 45 min of retries before the run fails with the last reason. */
  maxFailures: 12,
} as const;

/** Exponential backoff for the n-th launch failure (1-based), capped. */
export function launchRetryDelayMs(failures: number): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 20);
  return Math.min(LAUNCH_RETRY.maxDelayMs, LAUNCH_RETRY.firstDelayMs * 2 ** exponent);
}
