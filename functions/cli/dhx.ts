#!/usr/bin/env node
/**
 * dhx: the operator's command line, against local mode (the default), a deployed stage (--stage) or a table
 * (--table, with AWS_ENDPOINT_URL for a moto). One file per command group under commands/.
 */
import { parseArgs } from "node:util";
import { PoolAlreadyExistsError } from "../adapters/dynamodb/dynamodb-pool-store.js";
import { ConfigError, PoolNotFoundError } from "../core/errors.js";
import { runLocalMode, stopSignal } from "../local/start-local-mode.js";
import { type Output, UsageError } from "./cli-output.js";
import { type CliTarget, resolveTarget } from "./cli-target.js";
import { formatDeadLetters, listDeadLetters, redriveDeadLetters } from "./commands/dlq-command.js";
import { readRunLog } from "./commands/logs-command.js";
import { POOL_SETTING_FLAGS, poolsCommand } from "./commands/pools-command.js";
import { findRunId, formatRunDetail, formatStatus, readRunDetail, readStatus } from "./commands/status-command.js";
import { cancelCommand, submitCommand } from "./commands/submit-command.js";
import { submitSourceCommand } from "./commands/submit-source-command.js";
import { watchCommand } from "./commands/watch-command.js";

export { UsageError } from "./cli-output.js";

const USAGE = `usage: dhx [--stage STAGE | --table NAME] [--json] <command>

commands:
  local                          run local mode in the foreground (same as npm start; dhx local --help)
  submit <recipe.yml>            a run of this recipe [--pool ID] [--weight 0.5] [--memory 2GiB|KiB]
                                 [--priority N] [--cli-version V] [--task RUN_INGEST|TEST_CONNECTION]
  submit --source <source URN>   run an ingestion source now through GMS (DATAHUB_GMS_URL/_TOKEN, or the
                                 stage's GMS); the stage's intake picks the request up
  status [run]                   runs and pools (pool, state, weight, Fargate size, waited, ran, outcome,
                                 why a run waits); with a run: its detail, report and history
  watch                          the live view [--interval SECONDS] [--until-idle]
  cancel <run>                   [--reason TEXT]
  logs <run>                     the run's task output [--attempt N]
  dlq list                       refused or failing messages, with their reasons
  dlq redrive <message id>...    back to the intake queue [--all]
  pools list
  pools create <id> [settings]   the first pool created becomes the default
  pools update <id> [settings]
  pools set-default <id>
  runs show <run>                the same as status <run>

A run is its execution request URN, its run id, or the first 6+ characters of the id (as status shows it).

settings:
  --description TEXT  --ingestion-max-workers N  --monitors-max-workers N  --default-memory-limit-kib N
  --run-timeout-seconds N  --start-timeout-seconds N  --max-attempts N

Target: local mode by default (its state in DHX_LOCAL_DIR, default .local/local-mode); --stage STAGE reads
functions/config/stages/STAGE.yml and uses the stage's resources with your AWS credentials; --table NAME
(or DHX_TABLE_NAME) only a table, for pools and status.`;

export type CliOptions = { signal?: AbortSignal; redraw?: boolean };

export async function runCli(
  argv: string[],
  env: Record<string, string | undefined>,
  out: Output,
  cliOptions: CliOptions = {},
): Promise<void> {
  const first = firstPositional(argv);
  if (first >= 0 && argv[first] === "local") {
    await runLocalMode(argv.slice(first + 1), env, out, cliOptions.signal ?? new AbortController().signal);
    return;
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    // node:util parseArgs names the option; say it as a usage error.
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help === true || positionals.length === 0) {
    out.write(`${USAGE}\n`);
    return;
  }
  const print = (json: unknown, text: string) => out.write(`${values.json ? JSON.stringify(json, null, 2) : text}\n`);
  const [noun, verb, ...rest] = positionals;
  const known = ["submit", "status", "watch", "cancel", "logs", "dlq", "pools", "runs"];
  if (noun === undefined || !known.includes(noun)) {
    throw new UsageError(`unknown command: ${positionals.join(" ")}\n${USAGE}`);
  }
  const target = resolveTarget({ table: values.table, stage: values.stage }, env);
  try {
    await runCommand(target, noun, verb, rest, values, out, print, cliOptions, env);
  } catch (error) {
    if ((error as { name?: string }).name === "ResourceNotFoundException") {
      throw new UsageError(`${target.label}: table ${target.tableName} does not exist here; is it deployed?`);
    }
    throw error;
  }
}

async function runCommand(
  target: CliTarget,
  noun: string,
  verb: string | undefined,
  rest: string[],
  values: ReturnType<typeof parse>["values"],
  out: Output,
  print: (json: unknown, text: string) => void,
  cliOptions: CliOptions,
  env: Record<string, string | undefined>,
): Promise<void> {
  switch (noun) {
    case "pools":
      await poolsCommand(target, verb, rest[0], values, print);
      return;
    case "submit": {
      if (values.source !== undefined) {
        if (verb !== undefined) throw new UsageError("submit takes a recipe file or --source, not both");
        const submitted = await submitSourceCommand(target, values.source, env);
        print(
          submitted,
          `GMS ${submitted.gmsUrl} created ${submitted.executionRequestUrn} (run ${submitted.runId}); ` +
            "the stage's intake picks it up on its next poll",
        );
        return;
      }
      if (verb === undefined) throw new UsageError("submit needs a recipe file: dhx submit <recipe.yml>");
      if (rest.length > 0) throw new UsageError(`submit takes one recipe file, got also ${rest.join(" ")}`);
      const submitted = await submitCommand(target, {
        recipePath: verb,
        pool: values.pool,
        weight: values.weight,
        memory: values.memory,
        priority: values.priority,
        cliVersion: values["cli-version"],
        task: values.task,
      });
      print(
        submitted,
        `submitted ${verb} as run ${submitted.runId}\n  ${submitted.executionRequestUrn}\n  dhx status ${submitted.runId}`,
      );
      return;
    }
    case "status":
    case "runs": {
      if (noun === "runs" && verb !== "show") throw new UsageError(`unknown command: runs ${verb ?? ""}\n${USAGE}`);
      const ref = noun === "runs" ? rest[0] : verb;
      if (ref === undefined) {
        if (noun === "runs") throw new UsageError("runs show needs an execution request URN or a run id");
        const snapshot = await readStatus(target);
        print(snapshot, formatStatus(snapshot));
        return;
      }
      const runId = await findRunId(target, ref, noun === "runs" ? "runs show" : "status");
      const detail = await readRunDetail(target, runId, ref);
      print(detail, formatRunDetail(detail));
      return;
    }
    case "watch": {
      const interval = Number(values.interval ?? "2");
      if (!Number.isFinite(interval) || interval < 0.1 || interval > 3600) {
        throw new UsageError(`--interval must be seconds from 0.1 to 3600, got ${values.interval}`);
      }
      await watchCommand(target, out, {
        intervalMs: interval * 1000,
        untilIdle: values["until-idle"] === true,
        json: values.json === true,
        redraw: cliOptions.redraw === true,
        ...(cliOptions.signal === undefined ? {} : { signal: cliOptions.signal }),
      });
      return;
    }
    case "cancel": {
      const runId = await findRunId(target, verb, "cancel");
      const answer = await cancelCommand(target, runId, verb ?? "", values.reason ?? "cancelled with dhx cancel");
      print(
        answer,
        answer.kind === "sent"
          ? `cancel sent for run ${answer.runId} (it was ${answer.state}); dhx status ${answer.runId} shows when it ends`
          : `run ${answer.runId} already ended ${answer.state}; nothing to cancel`,
      );
      return;
    }
    case "logs": {
      const runId = await findRunId(target, verb, "logs");
      const attempt = values.attempt === undefined ? undefined : Number(values.attempt);
      if (attempt !== undefined && !Number.isInteger(attempt)) {
        throw new UsageError(`--attempt must be a whole number, got ${values.attempt}`);
      }
      const log = await readRunLog(target, runId, verb ?? "", attempt);
      if (values.json) print(log, "");
      else out.write(log.text);
      return;
    }
    case "dlq": {
      if (verb === "list") {
        const letters = await listDeadLetters(target);
        print(letters, formatDeadLetters(letters));
        return;
      }
      if (verb === "redrive") {
        const result = await redriveDeadLetters(target, { all: values.all === true, messageIds: rest });
        print(
          result,
          `sent ${result.redriven.length} message(s) back to the intake queue` +
            (result.notFound.length === 0 ? "" : `; not in the DLQ: ${result.notFound.join(", ")}`),
        );
        return;
      }
      throw new UsageError(`dlq needs list or redrive, got ${verb ?? "nothing"}`);
    }
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      table: { type: "string" },
      stage: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean" },
      pool: { type: "string" },
      source: { type: "string" },
      weight: { type: "string" },
      memory: { type: "string" },
      priority: { type: "string" },
      "cli-version": { type: "string" },
      task: { type: "string" },
      interval: { type: "string" },
      "until-idle": { type: "boolean" },
      reason: { type: "string" },
      attempt: { type: "string" },
      all: { type: "boolean" },
      ...POOL_SETTING_FLAGS,
    },
  });
}

/** The index of the first argument that is not an option or an option's value (for `dhx [options] local`). */
function firstPositional(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--table" || arg === "--stage") {
      i++;
      continue;
    }
    if (!arg.startsWith("-")) return i;
  }
  return -1;
}

/** The process's entry: exit 2 with the message for a usage error, 1 with the error for anything else. */
export async function main(): Promise<void> {
  // The SDK's notice that later versions will need Node 22 is not the operator's to act on on every command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  try {
    const argv = process.argv.slice(2);
    // Only the long-running commands take Ctrl-C as "stop cleanly"; the others just end.
    const longRunning = argv.includes("watch") || argv.includes("local");
    await runCli(argv, process.env, process.stdout, {
      ...(longRunning ? { signal: stopSignal() } : {}),
      redraw: process.stdout.isTTY === true,
    });
  } catch (error) {
    const known =
      error instanceof UsageError ||
      error instanceof PoolNotFoundError ||
      error instanceof PoolAlreadyExistsError ||
      error instanceof ConfigError;
    process.stderr.write(`dhx: ${known ? (error as Error).message : String(error)}\n`);
    process.exitCode = known ? 2 : 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"));
if (invokedDirectly) await main();
