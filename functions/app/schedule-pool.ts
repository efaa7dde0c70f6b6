import { CapacityExhaustedError, RunStateChangedError } from "../core/errors.js";
import type { CapacityClass } from "../core/weights.js";
import type { ExecutorDeps } from "./executor-deps.js";
import { type LaunchResult, launchAcquiredRun } from "./launch-run.js";

export type ScheduleResult = {
  poolId: string;
  capacityClass: CapacityClass;
  launches: LaunchResult[];
  stoppedBecause: "queue-empty" | "head-does-not-fit" | "head-backing-off" | "launch-limit";
};

const PAGE_SIZE = 10;
/** Bounds one pass; a pool with more room than this is finished by the next trigger or reconcile. */
const MAX_LAUNCHES_PER_PASS = 50;

/**
 * Starts waiting runs in queue order while they fit. The head that does not fit stops the pass, so a heavy run
 * is never overtaken by lighter ones behind it. Concurrent passes are safe: each acquisition is a conditional
 * transaction, and a run taken by another pass is skipped.
 */
export async function schedulePool(
  deps: ExecutorDeps,
  poolId: string,
  capacityClass: CapacityClass,
): Promise<ScheduleResult> {
  const launches: LaunchResult[] = [];
  const done = (stoppedBecause: ScheduleResult["stoppedBecause"]): ScheduleResult => ({
    poolId,
    capacityClass,
    launches,
    stoppedBecause,
  });
  let startAfter: string | undefined;
  for (;;) {
    const page = await deps.runs.readQueue(poolId, capacityClass, PAGE_SIZE, startAfter);
    if (page.length === 0) return done("queue-empty");
    for (const entry of page) {
      if (launches.length >= MAX_LAUNCHES_PER_PASS) return done("launch-limit");
      if (entry.notBeforeMs !== undefined && entry.notBeforeMs > deps.now()) return done("head-backing-off");
      let run: Awaited<ReturnType<typeof deps.runs.acquire>>;
      try {
        run = await deps.runs.acquire(entry, deps.now());
      } catch (error) {
        if (error instanceof CapacityExhaustedError) return done("head-does-not-fit");
        if (error instanceof RunStateChangedError) continue;
        throw error;
      }
      launches.push(await launchAcquiredRun(deps, run, "fresh"));
    }
    startAfter = page.at(-1)?.queueKey;
  }
}
