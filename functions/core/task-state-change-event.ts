import { z } from "zod";

/** The part of EventBridge's "ECS Task State Change" event the executor reads (aws-facts.md). */
export const TaskStateChangeEvent = z.object({
  source: z.literal("aws.ecs"),
  "detail-type": z.literal("ECS Task State Change"),
  time: z.string().optional(),
  detail: z.object({
    taskArn: z.string().min(1),
    clusterArn: z.string().min(1),
    lastStatus: z.string(),
    desiredStatus: z.string().optional(),
    startedBy: z.string().optional(),
    group: z.string().optional(),
    stopCode: z.string().optional(),
    stoppedReason: z.string().optional(),
    startedAt: z.string().optional(),
    stoppedAt: z.string().optional(),
    version: z.number().int().nonnegative(),
    containers: z
      .array(
        z.object({
          name: z.string().optional(),
          exitCode: z.number().int().optional(),
          reason: z.string().optional(),
          lastStatus: z.string().optional(),
        }),
      )
      .default([]),
  }),
});
export type TaskStateChangeEvent = z.infer<typeof TaskStateChangeEvent>;

const TOKEN = /^dhx-([0-9a-f]{24})-(\d{1,4})$/;

/** Our tasks carry startedBy = launchTokenFor(runId, attempt); any other task is not ours. */
export function parseLaunchToken(startedBy: string | undefined): { runId: string; attempt: number } | undefined {
  const match = startedBy === undefined ? null : TOKEN.exec(startedBy);
  if (match === null || match[1] === undefined || match[2] === undefined) return undefined;
  return { runId: match[1], attempt: Number.parseInt(match[2], 10) };
}
