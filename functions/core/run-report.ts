import type { TaskExitCode } from "./task-exit.js";

/** How a task's run ended, as its report item says it (docs/task-image.md); one per TaskExitCode. */
export const RunReportOutcome = {
  SUCCESS: "SUCCESS",
  INGESTION_FAILED: "INGESTION_FAILED",
  SETUP_FAILED: "SETUP_FAILED",
  OUT_OF_MEMORY: "OUT_OF_MEMORY",
  CANCELLED: "CANCELLED",
} as const;
export type RunReportOutcome = (typeof RunReportOutcome)[keyof typeof RunReportOutcome];

/** Limits that keep the item well under DynamoDB's 400 KB and GMS's payload limits. */
export const RUN_REPORT_LIMITS = {
  structuredReportBytes: 200_000,
  logTailBytes: 64 * 1024,
} as const;

/**
 * What the task image leaves for the completion handler. Every text in it is already masked: the builder
 * stores what it is given, so masking happens once, before this point.
 */
export type RunReport = {
  runId: string;
  executionRequestUrn: string;
  launchAttempt: number;
  exitCode: TaskExitCode;
  outcome: RunReportOutcome;
  /** One sentence: why it ended so. */
  message: string;
  /** The CLI's --report-to JSON; omitted when the CLI wrote none or it was over the limit (message says so). */
  structuredReport?: string;
  logTail: string;
  cliVersion?: string;
  memoryLimitKiB?: number;
  startedAtMs: number;
  finishedAtMs: number;
};
