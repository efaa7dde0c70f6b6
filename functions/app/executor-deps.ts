import type { Logger } from "@aws-lambda-powertools/logger";
import type { Clock, DeadLetterQueue, PoolStore, RunStore, TaskLauncher } from "./ports.js";

export type ExecutorDeps = {
  runs: RunStore;
  pools: PoolStore;
  launcher: TaskLauncher;
  deadLetters: DeadLetterQueue;
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
