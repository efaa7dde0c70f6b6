import { z } from "zod";
import type { LaunchSettings } from "../adapters/ecs/run-task-request.js";
import { gmsUrlSetting, parseEnv } from "./parse-env.js";

const nonEmpty = z.string().trim().min(1);
const commaList = z
  .string()
  .trim()
  .min(1)
  .transform((text) =>
    text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
  )
  .pipe(z.array(z.string()).min(1));

/**
 * Everything the executor's Lambdas must be told, read once at cold start. Nothing here has a silent
 * default: a missing variable stops the function with its name.
 */
const ExecutorEnv = z.object({
  DHX_STAGE: nonEmpty,
  DHX_TABLE_NAME: nonEmpty,
  DHX_DEAD_LETTER_QUEUE_URL: nonEmpty,
  DHX_ECS_CLUSTER: nonEmpty,
  DHX_TASK_DEFINITION: nonEmpty,
  DHX_TASK_CONTAINER_NAME: nonEmpty,
  DHX_TASK_SUBNETS: commaList,
  DHX_TASK_SECURITY_GROUPS: commaList,
  DHX_TASK_ASSIGN_PUBLIC_IP: z.enum(["ENABLED", "DISABLED"]),
  DHX_GMS_URL: nonEmpty,
  /** The token is read from Secrets Manager at run time, never passed as a plain environment value. */
  DHX_GMS_TOKEN_SECRET_ARN: z.string().trim().startsWith("arn:", "must be a Secrets Manager secret ARN"),
  DHX_RUN_LOG_GROUP: nonEmpty,
  DHX_RUN_LOG_STREAM_PREFIX: nonEmpty,
});

export type ExecutorConfig = {
  stage: string;
  tableName: string;
  deadLetterQueueUrl: string;
  /** Always set for the Lambdas; local mode without a GMS sends statuses elsewhere (a local status log). */
  gms?: { url: string; tokenSecretArn: string };
  runLogs: { logGroup: string; streamPrefix: string };
  launch: LaunchSettings;
};

export function loadExecutorConfig(env: Record<string, string | undefined>): ExecutorConfig {
  const e = parseEnv(ExecutorEnv, env, "executor");
  const gmsUrl = gmsUrlSetting(e.DHX_GMS_URL, "executor");
  return {
    stage: e.DHX_STAGE,
    tableName: e.DHX_TABLE_NAME,
    deadLetterQueueUrl: e.DHX_DEAD_LETTER_QUEUE_URL,
    gms: { url: gmsUrl, tokenSecretArn: e.DHX_GMS_TOKEN_SECRET_ARN },
    runLogs: { logGroup: e.DHX_RUN_LOG_GROUP, streamPrefix: e.DHX_RUN_LOG_STREAM_PREFIX },
    launch: {
      stage: e.DHX_STAGE,
      cluster: e.DHX_ECS_CLUSTER,
      taskDefinition: e.DHX_TASK_DEFINITION,
      containerName: e.DHX_TASK_CONTAINER_NAME,
      subnets: e.DHX_TASK_SUBNETS,
      securityGroups: e.DHX_TASK_SECURITY_GROUPS,
      assignPublicIp: e.DHX_TASK_ASSIGN_PUBLIC_IP,
    },
  };
}
