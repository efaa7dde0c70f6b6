import { z } from "zod";
import { TASK_ENV } from "../../functions/adapters/ecs/run-task-request.js";
import { parseEnv } from "../../functions/config/parse-env.js";

const nonEmpty = z.string().trim().min(1);
const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,12}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** ECS sends SIGKILL this long after SIGTERM (the task definition's stopTimeout). */
export const ECS_STOP_TIMEOUT_SECONDS = 120;

/**
 * The task's environment: ids from RunTask's overrides, the rest from the task definition and the image.
 * Defaults exist only where DataHub documents one (file secrets) or this document does (docs/task-image.md).
 */
const TaskEnv = z.object({
  [TASK_ENV.RUN_ID]: z.string().regex(/^[0-9a-f]{24}$/, "must be a run id (24 hex digits)"),
  [TASK_ENV.EXECUTION_REQUEST_URN]: nonEmpty,
  [TASK_ENV.POOL]: nonEmpty,
  [TASK_ENV.LAUNCH_ATTEMPT]: wholeNumber(1, 999),
  DHX_STAGE: nonEmpty,
  DHX_TABLE_NAME: nonEmpty,
  DHX_SECRET_PREFIX: nonEmpty,
  DATAHUB_EXECUTOR_FILE_SECRET_BASEDIR: nonEmpty.default("/mnt/secrets"),
  DATAHUB_EXECUTOR_FILE_SECRET_MAXLEN: wholeNumber(1, 64 * 1024 * 1024).default(1_048_576),
  DHX_CLI_INSTALLS: z.enum(["enabled", "disabled"]).default("disabled"),
  DHX_DATAHUB_CLI: nonEmpty.default("datahub"),
  /** Set by the image (Dockerfile ARG DATAHUB_VERSION): the version DHX_DATAHUB_CLI is. */
  DHX_DATAHUB_CLI_VERSION: nonEmpty,
  /** The extras the image's CLI was built with; an installed version gets the same. */
  DHX_DATAHUB_PLUGINS: z.string().trim().default(""),
  DHX_CLI_CACHE_DIR: nonEmpty.default("/var/cache/dhx-cli"),
  DHX_PYTHON: nonEmpty.default("python3"),
  DHX_CANCEL_GRACE_SECONDS: wholeNumber(1, ECS_STOP_TIMEOUT_SECONDS - 20).default(60),
});

export type TaskConfig = {
  runId: string;
  executionRequestUrn: string;
  pool: string;
  launchAttempt: number;
  stage: string;
  tableName: string;
  secretPrefix: string;
  fileSecretBaseDir: string;
  fileSecretMaxBytes: number;
  cliInstalls: "enabled" | "disabled";
  imageCli: { executable: string; version: string; plugins: string[] };
  cliCacheDir: string;
  python: string;
  cancelGraceSeconds: number;
};

export function loadTaskConfig(env: Record<string, string | undefined>): TaskConfig {
  const e = parseEnv(TaskEnv, env, "task");
  return {
    runId: e[TASK_ENV.RUN_ID],
    executionRequestUrn: e[TASK_ENV.EXECUTION_REQUEST_URN],
    pool: e[TASK_ENV.POOL],
    launchAttempt: e[TASK_ENV.LAUNCH_ATTEMPT],
    stage: e.DHX_STAGE,
    tableName: e.DHX_TABLE_NAME,
    secretPrefix: e.DHX_SECRET_PREFIX,
    fileSecretBaseDir: e.DATAHUB_EXECUTOR_FILE_SECRET_BASEDIR,
    fileSecretMaxBytes: e.DATAHUB_EXECUTOR_FILE_SECRET_MAXLEN,
    cliInstalls: e.DHX_CLI_INSTALLS,
    imageCli: {
      executable: e.DHX_DATAHUB_CLI,
      version: e.DHX_DATAHUB_CLI_VERSION,
      plugins: e.DHX_DATAHUB_PLUGINS.split(",")
        .map((p) => p.trim())
        .filter((p) => p !== ""),
    },
    cliCacheDir: e.DHX_CLI_CACHE_DIR,
    python: e.DHX_PYTHON,
    cancelGraceSeconds: e.DHX_CANCEL_GRACE_SECONDS,
  };
}
