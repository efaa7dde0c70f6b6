import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { inject } from "vitest";
import { Keys } from "../../functions/adapters/dynamodb/table-keys.js";
import { runIdFor } from "../../functions/core/plan-run.js";
import { buildEntrypoint } from "../../task-image/build-entrypoint.js";
import type { Fixture } from "../support/executor-fixture.js";

/** Shared by the task-image e2e files: the real bundle, run as the container would run it, minus Docker. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const FIXTURES = join(ROOT, "test", "fixtures", "task-image");
export const VENV_DATAHUB = join(ROOT, ".venv", "bin", "datahub");
/** The version pinned in test/support/requirements.txt, which the "image" here claims to have. */
export const IMAGE_CLI_VERSION = "1.7.0.17";

let bundle: Promise<string> | undefined;
/** Builds the entrypoint once per file into a temporary directory, exactly as `npm run build:task-image` does. */
export function entrypointBundle(): Promise<string> {
  bundle ??= buildEntrypoint(join(mkdtempSync(join(tmpdir(), "dhx-bundle-")), "entrypoint.mjs"));
  return bundle;
}

export function fixtureRecipe(name: string, replacements: Record<string, string>): string {
  let text = readFileSync(join(FIXTURES, name), "utf8").replaceAll("__FIXTURES__", FIXTURES);
  for (const [key, value] of Object.entries(replacements)) text = text.replaceAll(key, value);
  return text;
}

export type RunArgs = {
  recipe: string;
  task?: "RUN_INGEST" | "TEST_CONNECTION";
  version?: string;
  debug?: boolean;
  extraEnv?: Record<string, string>;
  extraArgs?: Record<string, string>;
};

export type DispatchedRun = { runId: string; urn: string; attempt: number };

/** Dispatches a real v1 message, so the run record and its input exist as the dispatcher writes them. */
export async function dispatchRun(fx: Fixture, args: RunArgs): Promise<DispatchedRun> {
  const urn = `urn:li:dataHubExecutionRequest:${randomUUID()}`;
  const body = JSON.stringify({
    version: 1,
    executionRequestUrn: urn,
    input: {
      task: args.task ?? "RUN_INGEST",
      args: {
        recipe: args.recipe,
        version: args.version ?? IMAGE_CLI_VERSION,
        debug_mode: args.debug === true ? "true" : "false",
        ...(args.extraEnv === undefined ? {} : { extra_env_vars: JSON.stringify(args.extraEnv) }),
        ...args.extraArgs,
      },
      executorId: "main",
      source: { type: "MANUAL_INGESTION_SOURCE" },
      requestedAt: 1_764_300_000_000,
    },
  });
  const response = await fx.dispatch([body]);
  if (response.batchItemFailures.length > 0) throw new Error(`dispatch refused the run: ${JSON.stringify(response)}`);
  const runId = runIdFor(urn);
  const run = await fx.deps.runs.getRun(runId);
  if (run?.state !== "LAUNCHED") throw new Error(`run ${runId} is ${run?.state}, not LAUNCHED`);
  return { runId, urn, attempt: run.launchAttempt };
}

/** The environment ECS would give the container: the overrides' ids, the task definition's settings. */
export function taskEnvironment(
  fx: Fixture,
  run: DispatchedRun,
  more: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: mkdtempSync(join(tmpdir(), "dhx-home-")),
    AWS_ENDPOINT_URL: inject("motoEndpoint"),
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    DATAHUB_TELEMETRY_ENABLED: "false",
    DHX_RUN_ID: run.runId,
    DHX_EXECUTION_REQUEST_URN: run.urn,
    DHX_POOL: "main",
    DHX_LAUNCH_ATTEMPT: String(run.attempt),
    DHX_STAGE: fx.stack.config.stage,
    DHX_TABLE_NAME: fx.stack.config.tableName,
    // provisionLocalStack names stage secrets dhx-<stage>/<NAME>.
    DHX_SECRET_PREFIX: `dhx-${fx.stack.config.stage}/`,
    DATAHUB_EXECUTOR_FILE_SECRET_BASEDIR: mkdtempSync(join(tmpdir(), "dhx-secrets-")),
    DHX_DATAHUB_CLI: VENV_DATAHUB,
    DHX_DATAHUB_CLI_VERSION: IMAGE_CLI_VERSION,
    DHX_CLI_CACHE_DIR: mkdtempSync(join(tmpdir(), "dhx-cli-cache-")),
    ...more,
  };
}

export type TaskProcess = {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

export async function startTask(env: Record<string, string>): Promise<TaskProcess> {
  const entrypoint = await entrypointBundle();
  const child = spawn(process.execPath, [entrypoint], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

export async function runTaskToEnd(env: Record<string, string>) {
  const task = await startTask(env);
  const { code } = await task.exited;
  return { code, stdout: task.stdout(), stderr: task.stderr() };
}

export async function readReport(fx: Fixture, run: DispatchedRun): Promise<Record<string, unknown> | undefined> {
  const { Item } = await fx.doc.send(
    new GetCommand({
      TableName: fx.stack.config.tableName,
      Key: Keys.runReport(run.runId, run.attempt),
      ConsistentRead: true,
    }),
  );
  return Item;
}

/** Processes whose process group is `pgid`, from /proc; zombies are dead and left out. */
export function livingProcessesInGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat !== undefined && stat.pgrp === pgid && stat.state !== "Z") pids.push(Number(entry));
  }
  return pids;
}

export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== "Z";
}

export function childrenOf(ppid: number): { pid: number; pgrp: number }[] {
  const found: { pid: number; pgrp: number }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat !== undefined && stat.ppid === ppid) found.push({ pid: Number(entry), pgrp: stat.pgrp });
  }
  return found;
}

function readStat(pid: number): { state: string; ppid: number; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may hold spaces: fields start after the last ")".
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "", ppid: Number(fields[1]), pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

/** Waits for a condition the test needs before acting (never a pass/fail timing). */
export async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export type RecordedRequest = { method: string; url: string; body: string };

/**
 * A stub GMS on 127.0.0.1: answers /config as GMS does, records every request, and accepts proposals,
 * or holds them unanswered (`holdProposals`) to keep an ingestion running.
 */
export async function startStubGms(options: { holdProposals?: boolean } = {}) {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      requests.push({ method: req.method ?? "", url: req.url ?? "", body });
      if (req.url?.startsWith("/config")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ noCode: "true", versions: { acryldata: { version: "v1.3.0", commit: "stub" } } }));
        return;
      }
      if (options.holdProposals === true && req.url?.startsWith("/aspects?action=ingestProposal")) return;
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** The proposals received, flattened from every ingestProposal(Batch) request. */
    proposals(): { entityUrn: string; aspectName: string }[] {
      return requests
        .filter((r) => r.url.startsWith("/aspects?action=ingestProposal"))
        .flatMap((r) => {
          const parsed = JSON.parse(r.body) as { proposals?: unknown[]; proposal?: unknown };
          return (parsed.proposals ?? [parsed.proposal]) as { entityUrn: string; aspectName: string }[];
        });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
