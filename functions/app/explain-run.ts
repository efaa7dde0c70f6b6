import { type RunRecord, RunState } from "../core/run-record.js";
import { describeWait, type WaitCause } from "../core/wait-reason.js";
import type { Clock, RunStore } from "./ports.js";

export type RunExplanation = {
  run: RunRecord;
  wait?: { cause: WaitCause; text: string; runsAhead: number; usedMicro: number };
};

/** What a run is doing, and for a waiting run why: pool, free weight, runs ahead, launch backoff. */
export async function explainRun(
  deps: { runs: RunStore; now: Clock },
  runId: string,
): Promise<RunExplanation | undefined> {
  const run = await deps.runs.getRun(runId);
  if (run === undefined) return undefined;
  if (run.state !== RunState.WAITING) return { run };
  const [runsAhead, capacity] = await Promise.all([
    deps.runs.countAhead(run),
    deps.runs.readCapacity(run.poolId, run.capacityClass),
  ]);
  const wait = describeWait({
    poolId: run.poolId,
    capacityClass: run.capacityClass,
    weightMicro: run.weightMicro,
    usedMicro: capacity.usedMicro,
    runsAhead,
    nowMs: deps.now(),
    ...(run.notBeforeMs === undefined ? {} : { notBeforeMs: run.notBeforeMs }),
    ...(run.lastLaunchError === undefined ? {} : { lastLaunchError: run.lastLaunchError }),
  });
  return { run, wait: { ...wait, runsAhead, usedMicro: capacity.usedMicro } };
}
