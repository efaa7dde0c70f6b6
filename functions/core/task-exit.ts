/**
 * The contract between the task image's entrypoint and the completion handler: the entrypoint's exit code
 * says how the run ended, and its report item (docs/dynamodb-layout.md) says it again with the details.
 */
export const TaskExitCode = {
  SUCCESS: 0,
  /** `datahub ingest` ran and failed. */
  INGESTION_FAILED: 1,
  /** The run could not start: unreadable input, a secret found nowhere, a refused CLI version. */
  SETUP_FAILED: 2,
  /** The ingestion process went past EXECUTOR_TASK_MEMORY_LIMIT. */
  OUT_OF_MEMORY: 3,
  /** SIGTERM (ECS StopTask) reached the entrypoint; the process group was stopped. */
  CANCELLED: 4,
} as const;
export type TaskExitCode = (typeof TaskExitCode)[keyof typeof TaskExitCode];
