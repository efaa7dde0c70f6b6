/** GMS refused the call for good (401, 403, 404, 422, other 4xx): retrying cannot help. */
export class GmsRejectedError extends Error {
  override readonly name = "GmsRejectedError" as const;
  readonly retryable = false as const;
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const GmsUnavailableKind = {
  /** 5xx or 408. */
  SERVER_ERROR: "server-error",
  RATE_LIMITED: "rate-limited",
  TIMEOUT: "timeout",
  /** Connection refused, DNS, TLS, reset. */
  NETWORK: "network",
  /** The token's secret could not be read: kept and retried so nothing is lost while it is fixed. */
  TOKEN_UNREADABLE: "token-unreadable",
} as const;
export type GmsUnavailableKind = (typeof GmsUnavailableKind)[keyof typeof GmsUnavailableKind];

/** GMS could not be reached or asked us to come back later: keep the write and retry with backoff. */
export class GmsUnavailableError extends Error {
  override readonly name = "GmsUnavailableError" as const;
  readonly retryable = true as const;
  constructor(
    readonly kind: GmsUnavailableKind,
    message: string,
    readonly details: { status?: number; retryAfterSeconds?: number } = {},
  ) {
    super(message);
  }
}
