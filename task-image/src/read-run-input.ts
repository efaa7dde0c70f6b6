import { type DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { Keys } from "../../functions/adapters/dynamodb/table-keys.js";
import type { FargateSize } from "../../functions/core/fargate-sizing.js";
import type { RunRecord } from "../../functions/core/run-record.js";
import { SetupFailedError } from "./setup-failed-error.js";
import type { TaskConfig } from "./task-config.js";

export type RunInput = {
  task: "RUN_INGEST" | "TEST_CONNECTION";
  /** YAML or JSON text, as DataHub sent it; `${NAME}` references unresolved. */
  recipe: string;
  version: string | undefined;
  debug: boolean;
  extraEnv: Record<string, string>;
  memoryLimitKiB: number;
  fargate: FargateSize;
};

/** Extra packages would be installed at start, unpinned and from the run's own say: refused (docs/task-image.md). */
const REFUSED_PIP_ARGS = ["extra_pip_requirements", "extra_pip_plugins"] as const;

/** Reads the run's record and its input item: the only place the task learns what to run. */
export async function readRunInput(
  doc: DynamoDBDocumentClient,
  config: Pick<TaskConfig, "tableName" | "runId" | "executionRequestUrn">,
): Promise<RunInput> {
  const [runItem, inputItem] = await Promise.all([
    doc.send(new GetCommand({ TableName: config.tableName, Key: Keys.run(config.runId), ConsistentRead: true })),
    doc.send(new GetCommand({ TableName: config.tableName, Key: Keys.runInput(config.runId), ConsistentRead: true })),
  ]);
  const run = runItem.Item as Partial<RunRecord> | undefined;
  if (run === undefined) throw new SetupFailedError(`run ${config.runId} has no record in ${config.tableName}`);
  if (run.executionRequestUrn !== config.executionRequestUrn) {
    throw new SetupFailedError(
      `run ${config.runId} belongs to ${String(run.executionRequestUrn)}, not to ${config.executionRequestUrn}`,
    );
  }
  const input = (inputItem.Item?.input ?? undefined) as { task?: unknown; args?: Record<string, unknown> } | undefined;
  if (input === undefined) throw new SetupFailedError(`run ${config.runId} has no input item`);
  const task = input.task;
  if (task !== "RUN_INGEST" && task !== "TEST_CONNECTION") {
    throw new SetupFailedError(`task ${JSON.stringify(String(task)).slice(0, 40)} is not one this image runs`);
  }
  const args = input.args ?? {};
  const recipe = args.recipe;
  if (typeof recipe !== "string" || recipe.trim() === "") {
    throw new SetupFailedError("the run's input has no recipe (input.args.recipe)");
  }
  for (const name of REFUSED_PIP_ARGS) {
    if (asksForPackages(args[name])) {
      throw new SetupFailedError(
        `input.args.${name} is not supported by this executor: build the packages into the task image ` +
          "(its DATAHUB_PLUGINS or EXTRA_PIP_PACKAGES build arguments) and remove them from the source",
      );
    }
  }
  if (typeof run.memoryLimitKiB !== "number" || run.fargate === undefined) {
    throw new SetupFailedError(`run ${config.runId} has no memory limit or Fargate size`);
  }
  return {
    task,
    recipe,
    version: typeof args.version === "string" ? args.version : undefined,
    debug: String(args.debug_mode ?? "").toLowerCase() === "true",
    extraEnv: parseExtraEnv(args.extra_env_vars),
    memoryLimitKiB: run.memoryLimitKiB,
    fargate: run.fargate,
  };
}

function asksForPackages(raw: unknown): boolean {
  if (raw === undefined || raw === null) return false;
  const text = String(raw).trim();
  if (text === "" || text === "[]" || text === "null") return false;
  try {
    const value: unknown = JSON.parse(text);
    return !(Array.isArray(value) && value.length === 0);
  } catch {
    return true;
  }
}

/** extra_env_vars was checked at dispatch (plan-run.ts); values become strings, as an environment holds. */
function parseExtraEnv(raw: unknown): Record<string, string> {
  if (typeof raw !== "string" || raw.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new SetupFailedError("input.args.extra_env_vars is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SetupFailedError("input.args.extra_env_vars must be a JSON object");
  }
  const env: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new SetupFailedError(`extra_env_vars key ${key} is not a name`);
    env[key] = String(v);
  }
  return env;
}
