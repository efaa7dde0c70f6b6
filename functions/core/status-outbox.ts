import type { RunState } from "./run-record.js";

/**
 * A status for DataHub, kept in DynamoDB until GMS has it. Each run has at most two pending entries: its
 * latest RUNNING (a refresh replaces an undelivered one) and its one terminal status, which sorts after it and is
 * written in the same transaction that ends the run, so RUNNING is never sent after the terminal status.
 */
export const OutboxKind = { RUNNING: "1-RUNNING", TERMINAL: "2-TERMINAL" } as const;
export type OutboxKind = (typeof OutboxKind)[keyof typeof OutboxKind];

export type GmsStatus = "RUNNING" | "SUCCESS" | "FAILURE" | "CANCELLED" | "TIMEOUT" | "ABORTED";

export type OutboxEntry = {
  runId: string;
  executionRequestUrn: string;
  kind: OutboxKind;
  status: GmsStatus;
  reason: string;
  enqueuedAtMs: number;
  /** Sends tried so far; a terminal entry tried before is checked against GMS first, so it lands once. */
  attempts: number;
  /** Which launch attempt's report item holds the log tail and structured report, for terminal entries. */
  launchAttempt?: number;
};

/** The status DataHub shows for a final run state; REJECTED runs were refused, which DataHub calls FAILURE. */
export function gmsStatusOf(state: RunState): GmsStatus {
  switch (state) {
    case "SUCCESS":
    case "FAILURE":
    case "CANCELLED":
    case "TIMEOUT":
    case "ABORTED":
      return state;
    case "REJECTED":
      return "FAILURE";
    default:
      return "RUNNING";
  }
}

/** DataHub's executor answers a KILL for a run it does not have with this text; so do we. */
export const NO_ACTIVE_EXECUTION = "No active execution request found.";
