import { MESSAGE_VERSION } from "./execution-request-message.js";

/**
 * What the intake does with the execution requests GMS lists for this stage's pools (docs/intake.md): pure, so
 * every rule is tested without GMS or AWS.
 */

/** One execution request as GMS's entity scroll shows it (only the parts the intake decides on). */
export type ScannedExecutionRequest = {
  urn: string;
  /** dataHubExecutionRequestInput as GMS stores it; undefined when the entity has none (yet). */
  input?: Record<string, unknown>;
  /** dataHubExecutionRequestResult.status; undefined while nobody has picked the request up. */
  resultStatus?: string;
  /** dataHubExecutionRequestSignal.signal, e.g. "KILL". */
  signal?: string;
};

export const IntakeSkipReason = {
  /** Routed to a pool this stage does not serve: another executor's business, never touched. */
  OTHER_POOL: "other-pool",
  /** Someone (we, most likely) already reported on it. */
  HAS_RESULT: "has-result",
  /** No input aspect: nothing to run. */
  NO_INPUT: "no-input",
} as const;
export type IntakeSkipReason = (typeof IntakeSkipReason)[keyof typeof IntakeSkipReason];

/** Which marker guards a message: one run and one cancel at most per execution request. */
export const IntakeMessageKind = { RUN: "run", CANCEL: "cancel" } as const;
export type IntakeMessageKind = (typeof IntakeMessageKind)[keyof typeof IntakeMessageKind];

export type IntakeAction = {
  kind: IntakeMessageKind;
  executionRequestUrn: string;
  poolId: string;
  /** The v1 message (docs/message-format.md) to put on the intake queue. */
  body: string;
};

export type IntakePlan = {
  actions: IntakeAction[];
  skipped: { executionRequestUrn: string; reason: IntakeSkipReason }[];
};

export const KILL_SIGNAL = "KILL";
export const KILL_CANCEL_REASON = "Cancel (KILL signal) in DataHub";

/**
 * A request for a served pool without a result becomes a run message; one with a KILL signal and no final
 * result (none yet, or RUNNING) becomes a cancel message instead. Everything else is left alone. Validation of
 * the input itself is dispatch's (one place for it): a bad request is refused there and reported to DataHub.
 */
export function planIntake(requests: readonly ScannedExecutionRequest[], servedPools: ReadonlySet<string>): IntakePlan {
  const plan: IntakePlan = { actions: [], skipped: [] };
  const seen = new Set<string>();
  for (const request of requests) {
    // Scroll pages can overlap when GMS re-indexes between pages: decide once per URN.
    if (seen.has(request.urn)) continue;
    seen.add(request.urn);
    const skip = (reason: IntakeSkipReason) => plan.skipped.push({ executionRequestUrn: request.urn, reason });
    if (request.input === undefined) {
      skip(IntakeSkipReason.NO_INPUT);
      continue;
    }
    const poolId = request.input.executorId;
    // GMS's query already filters by executorId; this re-check keeps us off other pools whatever GMS answered.
    if (typeof poolId !== "string" || !servedPools.has(poolId)) {
      skip(IntakeSkipReason.OTHER_POOL);
      continue;
    }
    const open = request.resultStatus === undefined || request.resultStatus === "RUNNING";
    if (request.signal === KILL_SIGNAL && open) {
      plan.actions.push({
        kind: IntakeMessageKind.CANCEL,
        executionRequestUrn: request.urn,
        poolId,
        body: buildCancelMessage(request.urn),
      });
      continue;
    }
    if (request.resultStatus !== undefined) {
      skip(IntakeSkipReason.HAS_RESULT);
      continue;
    }
    plan.actions.push({
      kind: IntakeMessageKind.RUN,
      executionRequestUrn: request.urn,
      poolId,
      body: buildRunMessage(request.urn, request.input),
    });
  }
  return plan;
}

/** The input travels as GMS stored it, so dispatch sees exactly what DataHub's own executor would. */
export function buildRunMessage(executionRequestUrn: string, input: Record<string, unknown>): string {
  return JSON.stringify({ version: MESSAGE_VERSION, kind: "run", executionRequestUrn, input });
}

export function buildCancelMessage(executionRequestUrn: string): string {
  return JSON.stringify({ version: MESSAGE_VERSION, kind: "cancel", executionRequestUrn, reason: KILL_CANCEL_REASON });
}

/**
 * The search query of the entity scroll: this stage's pools (executorId is a KEYWORD field in
 * ExecutionRequestInput.pdl) and requests newer than the look-back (requestTimeMs, a COUNT field). Pool ids
 * are quoted: '-' and '.' are query-syntax characters, and a pool id cannot contain a quote (core/pool.ts).
 */
export function buildExecutionRequestQuery(poolIds: readonly string[], sinceMs: number): string {
  if (poolIds.length === 0) throw new RangeError("the query needs at least one pool");
  if (!Number.isSafeInteger(sinceMs) || sinceMs < 0) throw new RangeError(`sinceMs must be epoch ms, got ${sinceMs}`);
  const pools = [...poolIds]
    .sort()
    .map((id) => `"${id}"`)
    .join(" OR ");
  return `executorId:(${pools}) AND requestTimeMs:>=${sinceMs}`;
}

/**
 * How many polls fit in one scheduled minute at the configured interval: the first at once, the others
 * `intervalSeconds` apart, the last starting before the next invocation would.
 */
export function pollsPerMinute(intervalSeconds: number): number {
  if (!Number.isInteger(intervalSeconds) || intervalSeconds < 1) {
    throw new RangeError(`the poll interval must be a whole number of seconds >= 1, got ${intervalSeconds}`);
  }
  return Math.max(1, Math.ceil(60 / intervalSeconds));
}
