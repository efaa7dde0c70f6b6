import { z } from "zod";
import { ConfigError } from "../core/errors.js";

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
});

export type ExecutorConfig = {
  stage: string;
  tableName: string;
  deadLetterQueueUrl: string;
  launch: {
    stage: string;
    cluster: string;
    taskDefinition: string;
    containerName: string;
    subnets: string[];
    securityGroups: string[];
    assignPublicIp: "ENABLED" | "DISABLED";
  };
};

export function loadExecutorConfig(env: Record<string, string | undefined>): ExecutorConfig {
  const parsed = ExecutorEnv.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join(".");
      return env[name] === undefined ? `${name} is not set` : `${name}: ${issue.message}`;
    });
    throw new ConfigError(`executor configuration is incomplete: ${problems.join("; ")}`);
  }
  const e = parsed.data;
  return {
    stage: e.DHX_STAGE,
    tableName: e.DHX_TABLE_NAME,
    deadLetterQueueUrl: e.DHX_DEAD_LETTER_QUEUE_URL,
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
