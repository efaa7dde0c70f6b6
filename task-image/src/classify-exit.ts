import { RunReportOutcome } from "../../functions/adapters/dynamodb/report-requests.js";
import { describeFargateSize, type FargateSize } from "../../functions/core/fargate-sizing.js";
import { TaskExitCode } from "../../functions/core/task-exit.js";

export type IngestionEnd = {
  /** The CLI process's own exit code, or null when a signal ended it. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** SIGTERM reached the entrypoint (ECS StopTask) before the CLI ended. */
  cancelled: boolean;
  /** The group ignored SIGTERM for the whole grace period and was killed. */
  killedAfterGrace: boolean;
  graceSeconds: number;
  /** The masked output named a memory failure (MemoryError, ENOMEM). */
  memoryErrorSeen: boolean;
  memoryLimitKiB: number;
  fargate: FargateSize;
  task: "RUN_INGEST" | "TEST_CONNECTION";
  /** The CLI that was to run: named when it could not be started. */
  executable: string;
};

export type Classified = { exitCode: TaskExitCode; outcome: RunReportOutcome; message: string };

/** Python's and the C library's words for a failed allocation, as they reach the CLI's output. */
export const MEMORY_FAILURE_PATTERN = /\bMemoryError\b|Cannot allocate memory|\bstd::bad_alloc\b/;

/**
 * How a finished CLI run ended. Cancel wins (a stopped run is cancelled whatever it printed); then a
 * memory failure: RLIMIT_AS makes Python raise MemoryError, and a SIGKILL we did not send (exit 137) is the
 * kernel's OOM killer when the container itself ran out.
 */
export function classifyIngestionEnd(end: IngestionEnd): Classified {
  const what = end.task === "TEST_CONNECTION" ? "the connection test" : "the ingestion";
  if (end.cancelled) {
    const how = end.killedAfterGrace
      ? `it did not stop within the ${end.graceSeconds} s grace period and its process group was killed`
      : "its process group stopped";
    return {
      exitCode: TaskExitCode.CANCELLED,
      outcome: RunReportOutcome.CANCELLED,
      message: `cancelled: the task was asked to stop (SIGTERM) while ${what} ran; ${how}`,
    };
  }
  // prlimit's own codes when it cannot exec the CLI (as a shell's): the image or DHX_DATAHUB_CLI is wrong.
  if (end.exitCode === 126 || end.exitCode === 127) {
    const why = end.exitCode === 127 ? "it was not found" : "it is not executable";
    return {
      exitCode: TaskExitCode.SETUP_FAILED,
      outcome: RunReportOutcome.SETUP_FAILED,
      message: `the DataHub CLI ${end.executable} could not be started: ${why}`,
    };
  }
  const killed = end.signal === "SIGKILL" || end.exitCode === 137;
  if ((end.exitCode !== 0 && end.memoryErrorSeen) || killed) {
    const cause = killed
      ? "was killed by SIGKILL (the out-of-memory killer's signal), most likely for going past its limit"
      : "exceeded its limit";
    return {
      exitCode: TaskExitCode.OUT_OF_MEMORY,
      outcome: RunReportOutcome.OUT_OF_MEMORY,
      message:
        `out of memory: the ingestion process ${cause} of ${end.memoryLimitKiB} KiB ` +
        `(Fargate ${describeFargateSize(end.fargate)}); raise EXECUTOR_TASK_MEMORY_LIMIT in the source's extra_env_vars`,
    };
  }
  if (end.exitCode === 0) {
    return {
      exitCode: TaskExitCode.SUCCESS,
      outcome: RunReportOutcome.SUCCESS,
      message: `${what} succeeded`,
    };
  }
  const how = end.signal === null ? `exited with code ${end.exitCode}` : `was ended by ${end.signal}`;
  return {
    exitCode: TaskExitCode.INGESTION_FAILED,
    outcome: RunReportOutcome.INGESTION_FAILED,
    message: `${what} failed: datahub ${how}; see the log tail`,
  };
}
