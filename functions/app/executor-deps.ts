import type { Logger } from "@aws-lambda-powertools/logger";
import type {
  Clock,
  DataHubStatusApi,
  DeadLetterQueue,
  PoolStore,
  RunLogs,
  RunStore,
  StatusOutbox,
  TaskLauncher,
} from "./ports.js";

export type ExecutorDeps = {
  stage: string;
  runs: RunStore;
  pools: PoolStore;
  outbox: StatusOutbox;
  launcher: TaskLauncher;
  deadLetters: DeadLetterQueue;
  status: DataHubStatusApi;
  runLogs: RunLogs;
  now: Clock;
  logger: Logger;
};

/** Every log line about a run carries the same correlation keys. */
export function loggerForRun(
  logger: Logger,
  run: { executionRequestUrn: string; runId: string; poolId?: string; taskArn?: string },
): Logger {
  return logger.createChild({
    persistentKeys: {
      executionRequestUrn: run.executionRequestUrn,
      runId: run.runId,
      ...(run.poolId === undefined ? {} : { pool: run.poolId }),
      ...(run.taskArn === undefined ? {} : { taskArn: run.taskArn }),
    },
  });
}
