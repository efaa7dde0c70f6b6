import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";
import type { ExecutionRequestInput, RunMessage } from "./execution-request-message.js";
import { chooseFargateSize, type FargateSize } from "./fargate-sizing.js";
import { POOL_ID_PATTERN, type Pool } from "./pool.js";
import { BadInputError, RejectionCode } from "./rejection.js";
import { findSecretReferences } from "./secret-references.js";
import { CapacityClass, capacityClassOf, defaultWeightMicro, parseWeight, quote } from "./weights.js";

/** Task types this executor runs: both are `datahub ingest run`, the second with --test-source-connection. */
export const SUPPORTED_TASKS = ["RUN_INGEST", "TEST_CONNECTION"] as const;
export type SupportedTask = (typeof SUPPORTED_TASKS)[number];

export const EXTRA_ENV = {
  WEIGHT: "EXECUTOR_TASK_WEIGHT",
  MEMORY_LIMIT: "EXECUTOR_TASK_MEMORY_LIMIT",
  TIMEOUT: "EXECUTOR_TASK_TIMEOUT_SECONDS",
} as const;

const MAX_RUN_TIMEOUT_SECONDS = 7 * 24 * 3600;
const MAX_MEMORY_LIMIT_KIB = 1024 * 1024 * 1024; // 1 TiB: anything larger is a typo, not a wish

export type RunPlan = {
  runId: string;
  executionRequestUrn: string;
  poolId: string;
  capacityClass: CapacityClass;
  task: SupportedTask;
  priority: number;
  weightMicro: number;
  weightSource: "EXECUTOR_TASK_WEIGHT" | "pool-default";
  memoryLimitKiB: number;
  memoryLimitSource: "EXECUTOR_TASK_MEMORY_LIMIT" | "pool-default";
  fargate: FargateSize;
  sizingNote?: string;
  runTimeoutSeconds: number;
  startTimeoutSeconds: number;
  maxAttempts: number;
  /** Names only, from `${NAME}` in the recipe: values never enter the executor's state. */
  secretNames: string[];
  input: ExecutionRequestInput;
};

/** A stable id per execution request, short enough for ECS startedBy and clientToken. */
export function runIdFor(executionRequestUrn: string): string {
  return createHash("sha256").update(executionRequestUrn).digest("hex").slice(0, 24);
}

export type PoolChoice = { poolId: string; from: "message.pool" | "input.executorId" } | { poolId: undefined };

/** Routing: the message's pool, else the request's executorId, else the default pool. */
export function choosePool(message: RunMessage): PoolChoice {
  if (message.pool !== undefined) return { poolId: message.pool, from: "message.pool" };
  const executorId = message.input.executorId;
  if (executorId !== undefined && executorId !== "") {
    if (!POOL_ID_PATTERN.test(executorId)) {
      throw new BadInputError(
        RejectionCode.UNKNOWN_POOL,
        `pool ${quote(executorId, 80)} (from input.executorId) does not exist: it is not a valid pool id`,
        message.executionRequestUrn,
      );
    }
    return { poolId: executorId, from: "input.executorId" };
  }
  return { poolId: undefined };
}

export function planRun(message: RunMessage, pool: Pool): RunPlan {
  const urn = message.executionRequestUrn;
  const reject = (code: RejectionCode, reason: string): never => {
    throw new BadInputError(code, reason, urn);
  };
  const task = message.input.task;
  if (!isSupportedTask(task)) {
    return reject(
      RejectionCode.UNSUPPORTED_TASK,
      `task ${quote(task)} is not run by this executor (it runs ${SUPPORTED_TASKS.join(", ")})`,
    );
  }
  const recipe = message.input.args.recipe;
  if (recipe === undefined) return reject(RejectionCode.INVALID_RECIPE, "input.args.recipe is missing");
  const recipeProblem = checkRecipe(recipe);
  if (recipeProblem !== undefined) return reject(RejectionCode.INVALID_RECIPE, `input.args.recipe ${recipeProblem}`);

  const extraEnv = parseExtraEnvVars(message.input.args.extra_env_vars, reject);
  const capacityClass = capacityClassOf(task);

  let weightMicro: number;
  let weightSource: RunPlan["weightSource"];
  const rawWeight = extraEnv[EXTRA_ENV.WEIGHT];
  if (rawWeight !== undefined) {
    const weight = parseWeight(rawWeight);
    if (!weight.ok) return reject(RejectionCode.INVALID_WEIGHT, `${EXTRA_ENV.WEIGHT} ${weight.problem}`);
    weightMicro = weight.micro;
    weightSource = "EXECUTOR_TASK_WEIGHT";
  } else {
    const maxWorkers = capacityClass === CapacityClass.MONITORS ? pool.monitorsMaxWorkers : pool.ingestionMaxWorkers;
    weightMicro = defaultWeightMicro(maxWorkers);
    weightSource = "pool-default";
  }

  let memoryLimitKiB = pool.defaultMemoryLimitKiB;
  let memoryLimitSource: RunPlan["memoryLimitSource"] = "pool-default";
  const rawMemory = extraEnv[EXTRA_ENV.MEMORY_LIMIT];
  if (rawMemory !== undefined) {
    const parsed = parsePositiveInteger(rawMemory, MAX_MEMORY_LIMIT_KIB);
    if (!parsed.ok) {
      return reject(RejectionCode.INVALID_MEMORY_LIMIT, `${EXTRA_ENV.MEMORY_LIMIT} (KiB) ${parsed.problem}`);
    }
    memoryLimitKiB = parsed.value;
    memoryLimitSource = "EXECUTOR_TASK_MEMORY_LIMIT";
  }

  let runTimeoutSeconds = pool.runTimeoutSeconds;
  const rawTimeout = extraEnv[EXTRA_ENV.TIMEOUT];
  if (rawTimeout !== undefined) {
    const parsed = parsePositiveInteger(rawTimeout, MAX_RUN_TIMEOUT_SECONDS);
    if (!parsed.ok) return reject(RejectionCode.INVALID_TIMEOUT, `${EXTRA_ENV.TIMEOUT} ${parsed.problem}`);
    runTimeoutSeconds = parsed.value;
  }

  const sizing = chooseFargateSize(memoryLimitKiB);
  return {
    runId: runIdFor(urn),
    executionRequestUrn: urn,
    poolId: pool.id,
    capacityClass,
    task,
    priority: message.priority ?? 0,
    weightMicro,
    weightSource,
    memoryLimitKiB,
    memoryLimitSource,
    fargate: sizing.size,
    ...(sizing.note === undefined ? {} : { sizingNote: sizing.note }),
    runTimeoutSeconds,
    startTimeoutSeconds: pool.startTimeoutSeconds,
    maxAttempts: pool.maxAttempts,
    secretNames: findSecretReferences(recipe),
    input: message.input,
  };
}

function isSupportedTask(task: string): task is SupportedTask {
  return (SUPPORTED_TASKS as readonly string[]).includes(task);
}

/** YAML is a superset of JSON, so one parser reads both recipe forms. */
function checkRecipe(recipe: string): string | undefined {
  let doc: unknown;
  try {
    // Warnings (say, an unknown tag) are the user's recipe business, not the executor's log noise.
    doc = parseYaml(recipe, { maxAliasCount: 100, logLevel: "error" });
  } catch (error) {
    const line = (error as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    return line === undefined ? "is neither valid YAML nor JSON" : `is neither valid YAML nor JSON (line ${line})`;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return "must be a mapping with a source";
  const source = (doc as Record<string, unknown>).source;
  if (typeof source !== "object" || source === null || Array.isArray(source)) return "has no source section";
  const type = (source as Record<string, unknown>).type;
  if (typeof type !== "string" || type === "") return "has no source.type";
  return undefined;
}

function parseExtraEnvVars(
  raw: string | undefined,
  reject: (code: RejectionCode, reason: string) => never,
): Record<string, unknown> {
  if (raw === undefined || raw.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return reject(RejectionCode.INVALID_EXTRA_ENV_VARS, "input.args.extra_env_vars is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return reject(RejectionCode.INVALID_EXTRA_ENV_VARS, "input.args.extra_env_vars must be a JSON object");
  }
  for (const [key, v] of Object.entries(value)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(key) || key === "__proto__") {
      return reject(
        RejectionCode.INVALID_EXTRA_ENV_VARS,
        `input.args.extra_env_vars has the key ${quote(key)}, which is not an environment variable name`,
      );
    }
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
      return reject(
        RejectionCode.INVALID_EXTRA_ENV_VARS,
        `input.args.extra_env_vars.${key} must be a string, number or boolean`,
      );
    }
  }
  return value as Record<string, unknown>;
}

type IntegerParse = { ok: true; value: number } | { ok: false; problem: string };

function parsePositiveInteger(raw: unknown, max: number): IntegerParse {
  const text = typeof raw === "number" ? String(raw) : raw;
  if (typeof text !== "string" || !/^\d{1,16}$/.test(text.trim())) {
    const shown = typeof raw === "string" ? quote(raw) : typeof raw;
    return { ok: false, problem: `must be a whole number, got ${shown}` };
  }
  const value = Number.parseInt(text.trim(), 10);
  if (value < 1) return { ok: false, problem: `must be greater than 0, got ${quote(text)}` };
  if (value > max) return { ok: false, problem: `must be at most ${max}, got ${quote(text)}` };
  return { ok: true, value };
}
