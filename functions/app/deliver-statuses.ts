import { buildExecutionResult, type ExecutionResultValue } from "../core/execution-result.js";
import type { RunRecord } from "../core/run-record.js";
import { type OutboxEntry, OutboxKind } from "../core/status-outbox.js";
import type { ExecutorDeps } from "./executor-deps.js";
import { loggerForRun } from "./executor-deps.js";
import { isStatusApiError } from "./ports.js";

/** Longer than a few GMS calls with their 10 s timeout; a deliverer that dies frees the run after this. */
export const DELIVERY_LEASE_MS = 60_000;

export type DeliveryResult =
  | { kind: "done"; delivered: number; refused: number }
  | { kind: "busy" }
  | { kind: "gms-unavailable"; delivered: number; reason: string };

/**
 * Sends a run's pending statuses to DataHub in order (its RUNNING, then its terminal status), under the run's
 * delivery lease. A terminal status tried before is first checked against GMS, so a crash between GMS's answer
 * and our record never writes it twice. GMS unreachable: the entries stay for the next pass. GMS refusing for
 * good: the entry is dropped and GMS's answer kept on the run.
 */
export async function deliverStatuses(deps: ExecutorDeps, runId: string): Promise<DeliveryResult> {
  const entries = (await deps.outbox.listPendingForRun(runId)).sort((a, b) => a.kind.localeCompare(b.kind));
  if (entries.length === 0) return { kind: "done", delivered: 0, refused: 0 };
  const until = deps.now() + DELIVERY_LEASE_MS;
  if (!(await deps.outbox.takeLease(runId, deps.now(), until))) return { kind: "busy" };
  let delivered = 0;
  let refused = 0;
  try {
    for (const entry of entries) {
      const run = await deps.runs.getRun(runId);
      if (run === undefined) break;
      const log = loggerForRun(deps.logger, run);
      try {
        if (entry.kind === OutboxKind.TERMINAL && entry.attempts > 0) {
          const current = await deps.status.readExecutionResult(entry.executionRequestUrn);
          if (current?.status === entry.status) {
            await deps.outbox.markDelivered(entry);
            delivered++;
            continue;
          }
        }
        if (!(await deps.outbox.countSend(entry))) continue;
        await deps.status.writeExecutionResult(entry.executionRequestUrn, await resultValueFor(deps, entry, run));
        await deps.outbox.markDelivered(entry);
        delivered++;
        log.info("status delivered to DataHub", { status: entry.status });
      } catch (error) {
        if (!isStatusApiError(error)) throw error;
        if (error.retryable) {
          log.warn("DataHub is unavailable; the status stays in the outbox", {
            status: entry.status,
            error: error.message,
          });
          return { kind: "gms-unavailable", delivered, reason: error.message };
        }
        await deps.outbox.markRefused(entry, error.message, deps.now(), run.state);
        refused++;
        log.error("DataHub refused the status for good", { status: entry.status, error: error.message });
      }
    }
  } finally {
    await deps.outbox.releaseLease(runId, until);
  }
  return { kind: "done", delivered, refused };
}

/** Every run with pending statuses, one after another; one run's trouble never stops the others. */
export async function drainOutbox(
  deps: ExecutorDeps,
): Promise<{ runs: number; pendingAfter: number; unavailable: boolean }> {
  const pending = await deps.outbox.listPending();
  const runIds = [...new Set(pending.map((e) => e.runId))];
  let unavailable = false;
  for (const runId of runIds) {
    const result = await deliverStatuses(deps, runId);
    // GMS down for one run is GMS down for all: stop hammering it until the next pass.
    if (result.kind === "gms-unavailable") {
      unavailable = true;
      break;
    }
  }
  const pendingAfter = (await deps.outbox.listPending()).length;
  return { runs: runIds.length, pendingAfter, unavailable };
}

/** The aspect value for an entry, built when it is sent, from the run and (for the end) the task's report. */
async function resultValueFor(deps: ExecutorDeps, entry: OutboxEntry, run: RunRecord): Promise<ExecutionResultValue> {
  const summary = {
    reason: entry.reason,
    attempts: (run.infraFailures ?? 0) + 1,
    pool: run.poolId ?? "(not admitted)",
    capacityClass: run.capacityClass ?? "INGESTION",
    weightMicro: run.weightMicro ?? 0,
    ...(run.fargate === undefined ? {} : { fargate: run.fargate }),
    ...(run.memoryLimitKiB === undefined ? {} : { memoryLimitKiB: run.memoryLimitKiB }),
    ...(run.taskArn === undefined ? {} : { taskArn: run.taskArn }),
    timings: {
      admittedAtMs: run.admittedAtMs,
      ...(run.launchedAtMs === undefined ? {} : { launchedAtMs: run.launchedAtMs }),
      ...(run.startedAtMs === undefined ? {} : { startedAtMs: run.startedAtMs }),
      ...(run.finishedAtMs === undefined ? {} : { finishedAtMs: run.finishedAtMs }),
    },
  };
  const startTimeMs = run.startedAtMs;
  if (entry.kind === OutboxKind.RUNNING) {
    return buildExecutionResult({
      status: "RUNNING",
      ...(startTimeMs === undefined ? {} : { startTimeMs }),
      summary,
      refreshedAtMs: entry.enqueuedAtMs,
    });
  }
  const report =
    entry.launchAttempt === undefined ? undefined : await deps.runs.getReport(run.runId, entry.launchAttempt);
  const logTail = report?.logTail ?? (run.taskArn === undefined ? undefined : await deps.runLogs.tail(run.taskArn));
  const end = run.finishedAtMs ?? entry.enqueuedAtMs;
  return buildExecutionResult({
    status: entry.status,
    ...(startTimeMs === undefined ? {} : { startTimeMs, durationMs: Math.max(0, end - startTimeMs) }),
    summary,
    ...(logTail === undefined ? {} : { logTail }),
    ...(report?.structuredReport === undefined ? {} : { structuredReport: report.structuredReport }),
  });
}
