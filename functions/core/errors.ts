import type { RunRecord } from "./run-record.js";

/** Domain errors raised when a conditional write finds the world other than expected. */
export class RunAlreadyAdmittedError extends Error {
  override readonly name = "RunAlreadyAdmittedError" as const;
  constructor(readonly existing: RunRecord | undefined) {
    super("the execution request was already admitted");
  }
}

export class CapacityExhaustedError extends Error {
  override readonly name = "CapacityExhaustedError" as const;
  constructor(readonly usedMicro: number | undefined) {
    super("the pool's weight budget has no room for this run");
  }
}

export class RunStateChangedError extends Error {
  override readonly name = "RunStateChangedError" as const;
  constructor(
    readonly runId: string,
    readonly expected: string,
  ) {
    super(`run ${runId} is no longer ${expected}`);
  }
}

export class PoolNotFoundError extends Error {
  override readonly name = "PoolNotFoundError" as const;
  constructor(readonly poolId: string) {
    super(`pool "${poolId}" does not exist`);
  }
}

export class ConfigError extends Error {
  override readonly name = "ConfigError" as const;
}
