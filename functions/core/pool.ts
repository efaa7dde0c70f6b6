import { z } from "zod";

/** Pool ids become parts of DynamoDB keys and ECS tags: a conservative alphabet keeps both unambiguous. */
export const POOL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const PoolId = z
  .string()
  .regex(POOL_ID_PATTERN, "a pool id is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit");

export const POOL_DEFAULTS = {
  ingestionMaxWorkers: 4,
  monitorsMaxWorkers: 10,
  /** 4 GiB: the per-run share of DataHub's 2 vCPU / 8 GB worker template plus headroom. */
  defaultMemoryLimitKiB: 4 * 1024 * 1024,
  /** 8 hours; a run can ask for its own with EXECUTOR_TASK_TIMEOUT_SECONDS. */
  runTimeoutSeconds: 8 * 60 * 60,
  startTimeoutSeconds: 15 * 60,
  maxAttempts: 2,
} as const;

export const PoolSettings = z.object({
  description: z.string().max(1024).default(""),
  ingestionMaxWorkers: z.number().int().min(1).max(1000).default(POOL_DEFAULTS.ingestionMaxWorkers),
  monitorsMaxWorkers: z.number().int().min(1).max(1000).default(POOL_DEFAULTS.monitorsMaxWorkers),
  defaultMemoryLimitKiB: z
    .number()
    .int()
    .min(512 * 1024)
    .max(128 * 1024 * 1024)
    .default(POOL_DEFAULTS.defaultMemoryLimitKiB),
  runTimeoutSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(POOL_DEFAULTS.runTimeoutSeconds),
  startTimeoutSeconds: z.number().int().min(60).max(3600).default(POOL_DEFAULTS.startTimeoutSeconds),
  maxAttempts: z.number().int().min(1).max(10).default(POOL_DEFAULTS.maxAttempts),
});
export type PoolSettings = z.infer<typeof PoolSettings>;

export type Pool = PoolSettings & { id: string; isDefault: boolean };
