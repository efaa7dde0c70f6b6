import { DynamoDbPoolStore } from "../../adapters/dynamodb/dynamodb-pool-store.js";
import { POOL_ID_PATTERN, type Pool, PoolSettings } from "../../core/pool.js";
import { formatTable, UsageError } from "../cli-output.js";
import type { CliTarget } from "../cli-target.js";

export const POOL_SETTING_FLAGS = {
  description: { type: "string" },
  "ingestion-max-workers": { type: "string" },
  "monitors-max-workers": { type: "string" },
  "default-memory-limit-kib": { type: "string" },
  "run-timeout-seconds": { type: "string" },
  "start-timeout-seconds": { type: "string" },
  "max-attempts": { type: "string" },
} as const;

type Print = (json: unknown, text: string) => void;

/** pools list | create <id> | update <id> | set-default <id> */
export async function poolsCommand(
  target: CliTarget,
  verb: string | undefined,
  poolId: string | undefined,
  values: Record<string, unknown>,
  print: Print,
): Promise<void> {
  const pools = new DynamoDbPoolStore(target.doc, target.tableName);
  if (verb === "list") {
    const list = await pools.list();
    print(list, list.length === 0 ? "no pools yet: dhx pools create <id>" : formatPools(list));
    return;
  }
  if (verb !== "create" && verb !== "update" && verb !== "set-default") {
    throw new UsageError(`pools needs list, create, update or set-default, got ${verb ?? "nothing"}`);
  }
  if (poolId === undefined || !POOL_ID_PATTERN.test(poolId)) {
    throw new UsageError(
      `pools ${verb} needs a pool id (1-64 letters, digits, '_', '.' or '-'), got ${poolId ?? "none"}`,
    );
  }
  if (verb === "set-default") {
    await pools.setDefault(poolId);
    print({ defaultPool: poolId }, `default pool is now ${poolId}`);
    return;
  }
  const settings = readSettings(values);
  const pool =
    verb === "create" ? await pools.create(poolId, PoolSettings.parse(settings)) : await pools.update(poolId, settings);
  print(pool, formatPools([pool]));
}

function readSettings(values: Record<string, unknown>): Partial<PoolSettings> {
  const number = (flag: string): number | undefined => {
    const raw = values[flag];
    if (raw === undefined) return undefined;
    if (typeof raw !== "string" || !/^\d+$/.test(raw))
      throw new UsageError(`--${flag} must be a whole number, got ${String(raw)}`);
    return Number.parseInt(raw, 10);
  };
  const settings: Partial<PoolSettings> = {
    description: typeof values.description === "string" ? values.description : undefined,
    ingestionMaxWorkers: number("ingestion-max-workers"),
    monitorsMaxWorkers: number("monitors-max-workers"),
    defaultMemoryLimitKiB: number("default-memory-limit-kib"),
    runTimeoutSeconds: number("run-timeout-seconds"),
    startTimeoutSeconds: number("start-timeout-seconds"),
    maxAttempts: number("max-attempts"),
  };
  const defined = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
  const checked = PoolSettings.partial().safeParse(defined);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new UsageError(`bad setting ${issue?.path.join(".")}: ${issue?.message}`);
  }
  return defined as Partial<PoolSettings>;
}

function formatPools(pools: Pool[]): string {
  const header = ["pool", "default", "ingestion", "monitors", "memory (KiB)", "run timeout", "attempts", "description"];
  const rows = pools.map((p) => [
    p.id,
    p.isDefault ? "yes" : "",
    String(p.ingestionMaxWorkers),
    String(p.monitorsMaxWorkers),
    String(p.defaultMemoryLimitKiB),
    `${p.runTimeoutSeconds} s`,
    String(p.maxAttempts),
    p.description,
  ]);
  return formatTable(header, rows);
}
