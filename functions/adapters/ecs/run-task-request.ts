import type { RunTaskCommandInput } from "@aws-sdk/client-ecs";
import type { RunRecord } from "../../core/run-record.js";

export type LaunchSettings = {
  stage: string;
  cluster: string;
  taskDefinition: string;
  containerName: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: "ENABLED" | "DISABLED";
};

/** The ids a task is given; the entrypoint reads everything else from the run's record. */
export const TASK_ENV = {
  RUN_ID: "DHX_RUN_ID",
  EXECUTION_REQUEST_URN: "DHX_EXECUTION_REQUEST_URN",
  POOL: "DHX_POOL",
  LAUNCH_ATTEMPT: "DHX_LAUNCH_ATTEMPT",
} as const;

export const TASK_TAGS = {
  RUN_ID: "dhx:run-id",
  EXECUTION_REQUEST_URN: "dhx:execution-request-urn",
  POOL: "dhx:pool",
  STAGE: "dhx:stage",
  LAUNCH_ATTEMPT: "dhx:launch-attempt",
} as const;

/**
 * RunTask for one launch attempt. Overrides carry ids only (never the recipe or a secret value); cpu and
 * memory are set at task and container level, since a task-level override alone does not raise a
 * container-level limit. startedBy and clientToken are both the attempt's token.
 */
export function buildRunTaskInput(run: RunRecord, settings: LaunchSettings): RunTaskCommandInput {
  if (run.launch === undefined) throw new Error(`run ${run.runId} has no launch intent`);
  const { token, attempt } = run.launch;
  const { cpu, memoryMiB } = run.fargate;
  return {
    cluster: settings.cluster,
    taskDefinition: settings.taskDefinition,
    launchType: "FARGATE",
    count: 1,
    clientToken: token,
    startedBy: token,
    group: `dhx-pool:${run.poolId}`,
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: settings.subnets,
        securityGroups: settings.securityGroups,
        assignPublicIp: settings.assignPublicIp,
      },
    },
    overrides: {
      cpu: String(cpu),
      memory: String(memoryMiB),
      containerOverrides: [
        {
          name: settings.containerName,
          cpu,
          memory: memoryMiB,
          environment: [
            { name: TASK_ENV.RUN_ID, value: run.runId },
            { name: TASK_ENV.EXECUTION_REQUEST_URN, value: run.executionRequestUrn },
            { name: TASK_ENV.POOL, value: run.poolId },
            { name: TASK_ENV.LAUNCH_ATTEMPT, value: String(attempt) },
          ],
        },
      ],
    },
    tags: [
      { key: TASK_TAGS.RUN_ID, value: run.runId },
      { key: TASK_TAGS.EXECUTION_REQUEST_URN, value: run.executionRequestUrn },
      { key: TASK_TAGS.POOL, value: run.poolId },
      { key: TASK_TAGS.STAGE, value: settings.stage },
      { key: TASK_TAGS.LAUNCH_ATTEMPT, value: String(attempt) },
    ],
    enableECSManagedTags: true,
    propagateTags: "TASK_DEFINITION",
  };
}
