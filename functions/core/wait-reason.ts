import type { CapacityClass } from "./weights.js";
import { CLASS_BUDGET_MICRO, fits, formatWeight } from "./weights.js";

export type WaitFacts = {
  poolId: string;
  capacityClass: CapacityClass;
  weightMicro: number;
  usedMicro: number;
  runsAhead: number;
  nowMs: number;
  notBeforeMs?: number;
  lastLaunchError?: string;
};

export const WaitCause = {
  LAUNCH_BACKOFF: "launch-backoff",
  RUNS_AHEAD: "runs-ahead",
  NO_ROOM: "no-room",
  ABOUT_TO_START: "about-to-start",
} as const;
export type WaitCause = (typeof WaitCause)[keyof typeof WaitCause];

/** Why a waiting run waits, in one sentence an operator can act on. */
export function describeWait(facts: WaitFacts): { cause: WaitCause; text: string } {
  const free = Math.max(0, CLASS_BUDGET_MICRO - facts.usedMicro);
  const budget = `pool "${facts.poolId}" (${facts.capacityClass.toLowerCase()}) has ${formatWeight(free)} of 1 free; this run needs ${formatWeight(facts.weightMicro)}`;
  if (facts.notBeforeMs !== undefined && facts.notBeforeMs > facts.nowMs) {
    const seconds = Math.ceil((facts.notBeforeMs - facts.nowMs) / 1000);
    const last = facts.lastLaunchError === undefined ? "" : ` after: ${facts.lastLaunchError}`;
    return { cause: WaitCause.LAUNCH_BACKOFF, text: `retrying its launch in ${seconds} s${last}; ${budget}` };
  }
  if (facts.runsAhead > 0) {
    const ahead = facts.runsAhead === 1 ? "1 run is" : `${facts.runsAhead} runs are`;
    return { cause: WaitCause.RUNS_AHEAD, text: `${ahead} ahead of it in the queue; ${budget}` };
  }
  if (!fits(facts.usedMicro, facts.weightMicro)) {
    return { cause: WaitCause.NO_ROOM, text: `first in the queue, waiting for weight to be released; ${budget}` };
  }
  return {
    cause: WaitCause.ABOUT_TO_START,
    text: `first in the queue and it fits; it starts at the next scheduling pass; ${budget}`,
  };
}
