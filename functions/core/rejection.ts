/**
 * Why a message was refused. Every code maps to one clear sentence; the message goes to the
 * dead-letter queue with both, and is never retried.
 */
export const RejectionCode = {
  BODY_TOO_LARGE: "BODY_TOO_LARGE",
  NOT_JSON: "NOT_JSON",
  UNKNOWN_VERSION: "UNKNOWN_VERSION",
  INVALID_URN: "INVALID_URN",
  INVALID_MESSAGE: "INVALID_MESSAGE",
  UNSUPPORTED_TASK: "UNSUPPORTED_TASK",
  INVALID_RECIPE: "INVALID_RECIPE",
  INVALID_EXTRA_ENV_VARS: "INVALID_EXTRA_ENV_VARS",
  INVALID_WEIGHT: "INVALID_WEIGHT",
  INVALID_MEMORY_LIMIT: "INVALID_MEMORY_LIMIT",
  INVALID_TIMEOUT: "INVALID_TIMEOUT",
  UNKNOWN_POOL: "UNKNOWN_POOL",
  NO_DEFAULT_POOL: "NO_DEFAULT_POOL",
} as const;
export type RejectionCode = (typeof RejectionCode)[keyof typeof RejectionCode];

export class BadInputError extends Error {
  override readonly name = "BadInputError" as const;
  constructor(
    readonly code: RejectionCode,
    readonly reason: string,
    /** Known when the body got far enough to name its execution request. */
    readonly executionRequestUrn?: string,
  ) {
    super(`${code}: ${reason}`);
  }
}
