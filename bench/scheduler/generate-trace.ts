import { parseWeight } from "../../functions/core/weights.js";
import { normal, pickWeighted, seededRandom } from "./seeded-random.js";

export type TraceRun = {
  id: number;
  runId: string;
  poolId: string;
  arrivalMs: number;
  /** As DataHub sends it in extra_env_vars, parsed by the core's parseWeight. */
  weight: string;
  weightMicro: number;
  priority: number;
  memoryLimitKiB: number;
  durationMs: number;
};

export type TraceOptions = { seed: number; runs: number; pools: number; hours: number };

export const DEFAULT_TRACE: TraceOptions = { seed: 20261128, runs: 10_000, pools: 100, hours: 24 };

const HOUR_MS = 3_600_000;
const GIB_KIB = 1024 * 1024;

/** Weights as sources set them: mostly the default 1/4, some light, some heavy, some alone (1.0). */
const WEIGHTS = [
  { value: "0.1", weight: 10 },
  { value: "0.2", weight: 10 },
  { value: "0.25", weight: 35 },
  { value: "0.33", weight: 10 },
  { value: "0.5", weight: 20 },
  { value: "0.75", weight: 7 },
  { value: "1.0", weight: 8 },
] as const;

/**
 * A seeded trace of ingestion runs over many pools. Pools differ in how busy they are (0.5× to 1.5× the mean
 * rate); 60% of runs arrive on the hour (cron schedules), the rest at random; durations are log-normal
 * (median 12 min); heavier runs ask for more memory; 10% of runs carry a higher priority.
 */
export function generateTrace(options: TraceOptions = DEFAULT_TRACE): TraceRun[] {
  const random = seededRandom(options.seed);
  const scales = Array.from({ length: options.pools }, () => 0.5 + random());
  const total = scales.reduce((a, b) => a + b, 0);
  const runs: TraceRun[] = [];
  for (let i = 0; i < options.runs; i++) {
    let at = random() * total;
    let pool = 0;
    while (pool < scales.length - 1 && at >= (scales[pool] ?? 0)) at -= scales[pool++] ?? 0;
    const onTheHour = random() < 0.6;
    const hour = Math.floor(random() * options.hours);
    const arrivalMs = onTheHour
      ? hour * HOUR_MS + Math.floor(random() * 5_000)
      : Math.floor(random() * options.hours * HOUR_MS);
    const weight = pickWeighted(random, WEIGHTS);
    const parsed = parseWeight(weight);
    if (!parsed.ok) throw new Error(`trace weight ${weight}: ${parsed.problem}`);
    const gib = pickWeighted(random, [
      { value: 1, weight: parsed.micro <= 250_000 ? 3 : 0.5 },
      { value: 4, weight: 4 },
      { value: 8, weight: parsed.micro >= 500_000 ? 4 : 1 },
      { value: 16, weight: parsed.micro >= 500_000 ? 2 : 0.2 },
      { value: 30, weight: parsed.micro >= 750_000 ? 1 : 0 },
    ]);
    const durationMs = Math.round(12 * 60_000 * Math.exp(0.8 * normal(random)));
    runs.push({
      id: i,
      runId: `run${String(i).padStart(20, "0")}`,
      poolId: `pool-${String(pool).padStart(3, "0")}`,
      arrivalMs,
      weight,
      weightMicro: parsed.micro,
      priority: random() < 0.1 ? 100 : 0,
      memoryLimitKiB: gib * GIB_KIB,
      durationMs: Math.max(30_000, durationMs),
    });
  }
  return runs.sort((a, b) => a.arrivalMs - b.arrivalMs || a.id - b.id);
}
