#!/usr/bin/env node
/**
 * dhx: the operator's command line. For now: pools (list, create, update, set-default) and runs (show, with
 * why a run waits). It talks to the stage's table with the ordinary AWS credentials and region, or to moto
 * through AWS_ENDPOINT_URL.
 */
import { parseArgs } from "node:util";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDbPoolStore, PoolAlreadyExistsError } from "../adapters/dynamodb/dynamodb-pool-store.js";
import { DynamoDbRunStore } from "../adapters/dynamodb/dynamodb-run-store.js";
import { explainRun } from "../app/explain-run.js";
import { documentClient } from "../config/create-aws-deps.js";
import { PoolNotFoundError } from "../core/errors.js";
import { EXECUTION_REQUEST_URN_PATTERN } from "../core/execution-request-message.js";
import { runIdFor } from "../core/plan-run.js";
import { POOL_ID_PATTERN, type Pool, PoolSettings } from "../core/pool.js";
import { formatWeight } from "../core/weights.js";

const USAGE = `usage: dhx [--table NAME] [--json] <command>

commands:
  pools list
  pools create <id> [settings]     the first pool created becomes the default
  pools update <id> [settings]
  pools set-default <id>
  runs show <execution request URN or run id>

settings:
  --description TEXT  --ingestion-max-workers N  --monitors-max-workers N  --default-memory-limit-kib N
  --run-timeout-seconds N  --start-timeout-seconds N  --max-attempts N

The table is --table or DHX_TABLE_NAME; AWS_ENDPOINT_URL points it at a local moto.`;

export class UsageError extends Error {
  override readonly name = "UsageError" as const;
}

const SETTING_FLAGS = {
  description: { type: "string" },
  "ingestion-max-workers": { type: "string" },
  "monitors-max-workers": { type: "string" },
  "default-memory-limit-kib": { type: "string" },
  "run-timeout-seconds": { type: "string" },
  "start-timeout-seconds": { type: "string" },
  "max-attempts": { type: "string" },
} as const;

type Output = { write(text: string): void };

export async function runCli(argv: string[], env: Record<string, string | undefined>, out: Output): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      table: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean" },
      ...SETTING_FLAGS,
    },
  });
  if (values.help === true || positionals.length === 0) {
    out.write(`${USAGE}\n`);
    return;
  }
  const table = values.table ?? env.DHX_TABLE_NAME;
  if (table === undefined || table === "") throw new UsageError("no table: pass --table NAME or set DHX_TABLE_NAME");
  const doc = documentClient(new DynamoDBClient({}));
  const pools = new DynamoDbPoolStore(doc, table);
  const runs = new DynamoDbRunStore(doc, table);
  const print = (json: unknown, text: string) => out.write(`${values.json ? JSON.stringify(json, null, 2) : text}\n`);
  const [noun, verb, target] = positionals;

  if (noun === "pools" && verb === "list") {
    const list = await pools.list();
    print(list, list.length === 0 ? "no pools yet: dhx pools create <id>" : formatPools(list));
    return;
  }
  if (noun === "pools" && (verb === "create" || verb === "update" || verb === "set-default")) {
    if (target === undefined || !POOL_ID_PATTERN.test(target)) {
      throw new UsageError(
        `pools ${verb} needs a pool id (1-64 letters, digits, '_', '.' or '-'), got ${target ?? "none"}`,
      );
    }
    if (verb === "set-default") {
      await pools.setDefault(target);
      print({ defaultPool: target }, `default pool is now ${target}`);
      return;
    }
    const settings = readSettings(values);
    const pool =
      verb === "create"
        ? await pools.create(target, PoolSettings.parse(settings))
        : await pools.update(target, settings);
    print(pool, formatPools([pool]));
    return;
  }
  if (noun === "runs" && verb === "show") {
    if (target === undefined) throw new UsageError("runs show needs an execution request URN or a run id");
    const runId = EXECUTION_REQUEST_URN_PATTERN.test(target) ? runIdFor(target) : target;
    const explanation = await explainRun({ runs, now: Date.now }, runId);
    if (explanation === undefined) throw new UsageError(`no run ${target} in table ${table}`);
    const { run, wait } = explanation;
    const lines = [
      `${run.executionRequestUrn}  (run ${run.runId})`,
      `state     ${run.state}${run.outcomeReason === undefined ? "" : `: ${run.outcomeReason}`}`,
      `pool      ${run.poolId} (${run.capacityClass?.toLowerCase()}), weight ${formatWeight(run.weightMicro)}`,
      ...(run.fargate === undefined
        ? []
        : [
            `size      ${run.fargate.cpu / 1024} vCPU / ${run.fargate.memoryMiB} MiB${run.sizingNote === undefined ? "" : ` (${run.sizingNote})`}`,
          ]),
      ...(wait === undefined ? [] : [`waiting   ${wait.text}`]),
      ...(run.taskArn === undefined ? [] : [`task      ${run.taskArn}`]),
      "history",
      ...run.history.map((h) => `  ${new Date(h.atMs).toISOString()}  ${h.state.padEnd(9)} ${h.reason}`),
    ];
    print(explanation, lines.join("\n"));
    return;
  }
  throw new UsageError(`unknown command: ${positionals.join(" ")}\n${USAGE}`);
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
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"));
if (invokedDirectly) {
  runCli(process.argv.slice(2), process.env, process.stdout).catch((error: unknown) => {
    const known =
      error instanceof UsageError || error instanceof PoolNotFoundError || error instanceof PoolAlreadyExistsError;
    process.stderr.write(`dhx: ${known ? (error as Error).message : String(error)}\n`);
    process.exitCode = known ? 2 : 1;
  });
}
