import { existsSync, readFileSync } from "node:fs";
import { DynamoDbPoolStore } from "../../adapters/dynamodb/dynamodb-pool-store.js";
import { listAllRuns } from "../../adapters/dynamodb/dynamodb-run-listing.js";
import { DynamoDbRunStore } from "../../adapters/dynamodb/dynamodb-run-store.js";
import type { StatusLogLine } from "../../adapters/local-status/local-status-log.js";
import { explainRun, type RunExplanation } from "../../app/explain-run.js";
import { EXECUTION_REQUEST_URN_PATTERN } from "../../core/execution-request-message.js";
import { runIdFor } from "../../core/plan-run.js";
import { isTerminal, type RunRecord, RunState } from "../../core/run-record.js";
import type { RunReport } from "../../core/run-report.js";
import { CapacityClass, formatWeight } from "../../core/weights.js";
import { formatElapsed, formatTable, UsageError } from "../cli-output.js";
import type { CliTarget } from "../cli-target.js";

export type RunRow = {
  executionRequestUrn: string;
  runId: string;
  pool: string;
  capacityClass: string;
  state: RunState;
  weightMicro: number;
  weight: string;
  launchAttempt: number;
  fargate?: { cpu: number; memoryMiB: number };
  admittedAtMs: number;
  waitedMs?: number;
  ranMs?: number;
  taskArn?: string;
  /** The final reason for a finished run. */
  outcome?: string;
  /** Why a waiting run waits. */
  waitReason?: string;
};

export type PoolUse = {
  id: string;
  isDefault: boolean;
  usedMicro: number;
  holders: number;
  ingestionMaxWorkers: number;
};

export type StatusSnapshot = { target: string; atMs: number; pools: PoolUse[]; runs: RunRow[] };

/** Every run and every pool's weight in use, newest run first. */
export async function readStatus(target: CliTarget, now: () => number = Date.now): Promise<StatusSnapshot> {
  const runs = new DynamoDbRunStore(target.doc, target.tableName);
  const pools = await new DynamoDbPoolStore(target.doc, target.tableName).list();
  const records = await listAllRuns(target.doc, target.tableName);
  const atMs = now();
  const rows: RunRow[] = [];
  for (const record of records.sort((a, b) => b.admittedAtMs - a.admittedAtMs)) {
    const explanation =
      record.state === RunState.WAITING ? await explainRun({ runs, now: () => atMs }, record.runId) : undefined;
    rows.push(toRow(explanation?.run ?? record, atMs, explanation?.wait?.text));
  }
  const use: PoolUse[] = [];
  for (const pool of pools) {
    const { usedMicro, holders } = await runs.readCapacity(pool.id, CapacityClass.INGESTION);
    use.push({
      id: pool.id,
      isDefault: pool.isDefault,
      usedMicro,
      holders,
      ingestionMaxWorkers: pool.ingestionMaxWorkers,
    });
  }
  return { target: target.label, atMs, pools: use, runs: rows };
}

function toRow(run: RunRecord, nowMs: number, waitReason: string | undefined): RunRow {
  // Waited: from admission to the (last) launch; ran: from ECS's RUNNING to the end, or until now.
  const waitEnd = run.launchedAtMs ?? (run.state === RunState.WAITING ? nowMs : run.finishedAtMs);
  const ranEnd = run.finishedAtMs ?? nowMs;
  return {
    executionRequestUrn: run.executionRequestUrn,
    runId: run.runId,
    pool: run.poolId,
    capacityClass: run.capacityClass,
    state: run.state,
    weightMicro: run.weightMicro,
    weight: run.weightMicro === undefined ? "" : formatWeight(run.weightMicro),
    launchAttempt: run.launchAttempt,
    ...(run.fargate === undefined ? {} : { fargate: run.fargate }),
    admittedAtMs: run.admittedAtMs,
    ...(waitEnd === undefined || run.admittedAtMs === undefined ? {} : { waitedMs: waitEnd - run.admittedAtMs }),
    ...(run.startedAtMs === undefined ? {} : { ranMs: ranEnd - run.startedAtMs }),
    ...(run.taskArn === undefined ? {} : { taskArn: run.taskArn }),
    ...(isTerminal(run.state) && run.outcomeReason !== undefined ? { outcome: run.outcomeReason } : {}),
    ...(waitReason === undefined ? {} : { waitReason }),
  };
}

export function fargateText(size: { cpu: number; memoryMiB: number } | undefined): string {
  return size === undefined ? "" : `${size.cpu / 1024} vCPU/${size.memoryMiB} MiB`;
}

export function formatStatus(snapshot: StatusSnapshot, progress?: (row: RunRow) => string | undefined): string {
  const pools = snapshot.pools.map(
    (p) =>
      `pool ${p.id}${p.isDefault ? " (default)" : ""}: ${formatWeight(p.usedMicro)} of 1 in use by ${p.holders} run${p.holders === 1 ? "" : "s"}`,
  );
  if (snapshot.runs.length === 0) return [...pools, "no runs yet: dhx submit <recipe.yml>"].join("\n");
  const header = ["run", "pool", "state", "weight", "fargate", "waited", "ran", "outcome / why it waits"];
  const rows = snapshot.runs.map((r) => [
    r.runId.slice(0, 12),
    r.pool,
    r.state,
    r.weight,
    fargateText(r.fargate),
    formatElapsed(r.waitedMs),
    formatElapsed(r.ranMs),
    r.waitReason ?? r.outcome ?? progress?.(r) ?? "",
  ]);
  return [...pools, "", formatTable(header, rows)].join("\n");
}

/** A run by its execution request URN, its run id, or a prefix of the id of at least 6 characters (as shown). */
export async function findRunId(target: CliTarget, ref: string | undefined, command: string): Promise<string> {
  if (ref === undefined || ref === "")
    throw new UsageError(`${command} needs a run: an execution request URN or a run id`);
  if (EXECUTION_REQUEST_URN_PATTERN.test(ref)) return runIdFor(ref);
  if (/^[0-9a-f]{24}$/.test(ref)) return ref;
  if (/^[0-9a-f]{6,23}$/.test(ref)) {
    const matches = (await listAllRuns(target.doc, target.tableName)).filter((r) => r.runId.startsWith(ref));
    if (matches.length === 1 && matches[0] !== undefined) return matches[0].runId;
    if (matches.length > 1)
      throw new UsageError(`run id prefix ${ref} matches ${matches.length} runs; give more of it`);
  }
  throw new UsageError(`no run ${ref} in ${target.label}`);
}

export type RunDetail = RunExplanation & {
  /** What the task left for its last attempt (masked): outcome, message, the CLI's structured report. */
  report?: RunReport;
  /** Local mode without a GMS: the statuses DataHub would have received, in order. */
  delivered?: { atMs: number; status: string; report: string; structuredReport?: unknown; durationMs?: number }[];
};

export async function readRunDetail(target: CliTarget, runId: string, ref: string): Promise<RunDetail> {
  const runs = new DynamoDbRunStore(target.doc, target.tableName);
  const explanation = await explainRun({ runs, now: Date.now }, runId);
  if (explanation === undefined) throw new UsageError(`no run ${ref} in ${target.label}`);
  const { run } = explanation;
  const report = run.launchAttempt > 0 ? await runs.getReport(runId, run.launchAttempt) : undefined;
  const statusLog = target.local?.statusLogPath;
  const delivered = statusLog === undefined ? undefined : readDelivered(statusLog, run.executionRequestUrn);
  return {
    ...explanation,
    ...(report === undefined ? {} : { report }),
    ...(delivered === undefined ? {} : { delivered }),
  };
}

function readDelivered(path: string, urn: string): RunDetail["delivered"] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as StatusLogLine)
    .flatMap((line) =>
      line.kind === "execution-result" && line.executionRequestUrn === urn
        ? [
            {
              atMs: line.atMs,
              status: line.value.status,
              report: line.value.report,
              ...(line.value.durationMs === undefined ? {} : { durationMs: line.value.durationMs }),
              ...(line.value.structuredReport === undefined
                ? {}
                : { structuredReport: parseJson(line.value.structuredReport.serializedValue) }),
            },
          ]
        : [],
    );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function formatRunDetail(detail: RunDetail): string {
  const { run, wait, report, delivered } = detail;
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
    ...(report === undefined ? [] : [`report    ${report.outcome}, exit code ${report.exitCode}: ${report.message}`]),
    ...(delivered === undefined || delivered.length === 0
      ? []
      : [`datahub   ${delivered.map((d) => d.status).join(" → ")} (local status log)`]),
    "history",
    ...run.history.map((h) => `  ${new Date(h.atMs).toISOString()}  ${h.state.padEnd(9)} ${h.reason}`),
  ];
  return lines.join("\n");
}
