import { RunAlreadyAdmittedError } from "../core/errors.js";
import { type IntakeMessage, parseIntakeMessage, type RunMessage } from "../core/execution-request-message.js";
import { choosePool, planRun, type RunPlan, runIdFor } from "../core/plan-run.js";
import type { Pool } from "../core/pool.js";
import { BadInputError, RejectionCode } from "../core/rejection.js";
import { isTerminal, type RunRecord, RunState } from "../core/run-record.js";
import { type CancelOutcome, cancelRun } from "./cancel-run.js";
import { deliverStatuses } from "./deliver-statuses.js";
import { type ExecutorDeps, loggerForRun } from "./executor-deps.js";
import { type LaunchResult, launchAcquiredRun } from "./launch-run.js";
import type { PoolStore } from "./ports.js";
import { type ScheduleResult, schedulePool } from "./schedule-pool.js";

export type DispatchOutcome =
  | { kind: "admitted"; run: RunRecord; schedule: ScheduleResult }
  | { kind: "duplicate"; run: RunRecord; resumed?: LaunchResult; schedule?: ScheduleResult }
  | { kind: "cancel"; executionRequestUrn: string; cancel: CancelOutcome }
  | { kind: "rejected"; code: RejectionCode; reason: string; executionRequestUrn?: string };

export type IntakeRecord = { body: string; messageId: string };

/**
 * One intake message: validate, route, admit to the pool's queue, then start what fits (or, for a cancel
 * message, cancel). Bad input is recorded and sent to the dead-letter queue with its reason; it never throws.
 * Anything else that throws leaves the message to be delivered again, and every step is safe to repeat.
 */
export async function dispatchMessage(deps: ExecutorDeps, message: IntakeRecord): Promise<DispatchOutcome> {
  let parsed: IntakeMessage;
  let plan: RunPlan;
  try {
    parsed = parseIntakeMessage(message.body);
    if (parsed.kind === "cancel") {
      const reason = parsed.reason ?? "cancel message on the intake queue";
      const cancel = await cancelRun(deps, parsed.executionRequestUrn, reason);
      return { kind: "cancel", executionRequestUrn: parsed.executionRequestUrn, cancel };
    }
    plan = planRun(parsed, await resolvePool(deps.pools, parsed));
  } catch (error) {
    if (error instanceof BadInputError) return reject(deps, message, error);
    throw error;
  }

  const log = loggerForRun(deps.logger, plan);
  let run: RunRecord;
  try {
    run = await deps.runs.admit(plan, deps.now());
  } catch (error) {
    if (!(error instanceof RunAlreadyAdmittedError) || error.existing === undefined) throw error;
    const existing = error.existing;
    log.info("execution request already admitted; resuming where it stands", { state: existing.state });
    // Finished (or cancelled before it ever arrived): nothing to resume.
    if (isTerminal(existing.state)) return { kind: "duplicate", run: existing };
    // A crash may have come between the launch intent and RunTask, or between RunTask and its record.
    const resumed =
      existing.state === RunState.LAUNCHING ? await launchAcquiredRun(deps, existing, "resumed") : undefined;
    const schedule = await schedulePool(deps, existing.poolId, existing.capacityClass);
    return { kind: "duplicate", run: existing, ...(resumed === undefined ? {} : { resumed }), schedule };
  }
  log.info("run admitted", {
    weightMicro: run.weightMicro,
    weightSource: run.weightSource,
    memoryLimitKiB: run.memoryLimitKiB,
    cpu: run.fargate.cpu,
    memoryMiB: run.fargate.memoryMiB,
    ...(run.sizingNote === undefined ? {} : { sizingNote: run.sizingNote }),
  });
  const schedule = await schedulePool(deps, run.poolId, run.capacityClass);
  return { kind: "admitted", run, schedule };
}

async function resolvePool(pools: PoolStore, message: RunMessage): Promise<Pool> {
  const choice = choosePool(message);
  const urn = message.executionRequestUrn;
  if (choice.poolId === undefined) {
    const pool = await pools.getDefault();
    if (pool === undefined) {
      throw new BadInputError(
        RejectionCode.NO_DEFAULT_POOL,
        "the message names no pool (neither pool nor input.executorId) and no default pool is set",
        urn,
      );
    }
    return pool;
  }
  const pool = await pools.get(choice.poolId);
  if (pool !== undefined) return pool;
  const known = (await pools.list()).map((p) => p.id);
  const shown = known.length === 0 ? "none" : known.slice(0, 10).join(", ") + (known.length > 10 ? ", …" : "");
  throw new BadInputError(
    RejectionCode.UNKNOWN_POOL,
    `pool "${choice.poolId}" (from ${choice.from}) does not exist; this executor serves: ${shown}`,
    urn,
  );
}

async function reject(deps: ExecutorDeps, message: IntakeRecord, error: BadInputError): Promise<DispatchOutcome> {
  const urn = error.executionRequestUrn;
  if (urn !== undefined) {
    const closed = {
      runId: runIdFor(urn),
      executionRequestUrn: urn,
      state: "REJECTED",
      code: error.code,
      reason: error.reason,
    } as const;
    if ((await deps.runs.recordClosedRun(closed, deps.now())) === "recorded") await deliverStatuses(deps, closed.runId);
  }
  await deps.deadLetters.send({
    body: message.body,
    messageId: message.messageId,
    code: error.code,
    reason: error.reason,
    ...(urn === undefined ? {} : { executionRequestUrn: urn }),
  });
  deps.logger.warn("message rejected and sent to the dead-letter queue", {
    messageId: message.messageId,
    code: error.code,
    reason: error.reason,
    ...(urn === undefined ? {} : { executionRequestUrn: urn, runId: runIdFor(urn) }),
  });
  return {
    kind: "rejected",
    code: error.code,
    reason: error.reason,
    ...(urn === undefined ? {} : { executionRequestUrn: urn }),
  };
}
