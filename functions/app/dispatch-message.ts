import { RunAlreadyAdmittedError } from "../core/errors.js";
import { parseRunMessage, type RunMessage } from "../core/execution-request-message.js";
import { choosePool, planRun, runIdFor } from "../core/plan-run.js";
import type { Pool } from "../core/pool.js";
import { BadInputError, RejectionCode } from "../core/rejection.js";
import { type RunRecord, RunState } from "../core/run-record.js";
import { type ExecutorDeps, loggerForRun } from "./executor-deps.js";
import { type LaunchResult, launchAcquiredRun } from "./launch-run.js";
import type { PoolStore } from "./ports.js";
import { type ScheduleResult, schedulePool } from "./schedule-pool.js";

export type DispatchOutcome =
  | { kind: "admitted"; run: RunRecord; schedule: ScheduleResult }
  | { kind: "duplicate"; run: RunRecord; resumed?: LaunchResult; schedule: ScheduleResult }
  | { kind: "rejected"; code: RejectionCode; reason: string; executionRequestUrn?: string };

export type IntakeMessage = { body: string; messageId: string };

/**
 * One intake message: validate, route, admit to the pool's queue, then start what fits. Bad input is recorded
 * and sent to the dead-letter queue with its reason; it never throws. Anything else that throws leaves the
 * message to be delivered again, and every step is safe to repeat.
 */
export async function dispatchMessage(deps: ExecutorDeps, message: IntakeMessage): Promise<DispatchOutcome> {
  let parsed: RunMessage;
  let pool: Pool;
  let plan: ReturnType<typeof planRun>;
  try {
    parsed = parseRunMessage(message.body);
    pool = await resolvePool(deps.pools, parsed);
    plan = planRun(parsed, pool);
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

async function reject(deps: ExecutorDeps, message: IntakeMessage, error: BadInputError): Promise<DispatchOutcome> {
  const urn = error.executionRequestUrn;
  if (urn !== undefined) {
    await deps.runs.recordRejection(
      { runId: runIdFor(urn), executionRequestUrn: urn, code: error.code, reason: error.reason },
      deps.now(),
    );
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
