/**
 * Fargate (Linux) task sizes and the cheapest valid pair for a memory limit.
 * Table from AWS's task-size documentation (see ../shared/reference/aws-facts.md).
 */
export type FargateSize = { cpu: number; memoryMiB: number };

type CpuRow = { cpu: number; minMiB: number; maxMiB: number; stepMiB: number; extra?: readonly number[] };

export const FARGATE_CPU_ROWS: readonly CpuRow[] = [
  { cpu: 256, minMiB: 512, maxMiB: 512, stepMiB: 512, extra: [1024, 2048] },
  { cpu: 512, minMiB: 1024, maxMiB: 4096, stepMiB: 1024 },
  { cpu: 1024, minMiB: 2048, maxMiB: 8192, stepMiB: 1024 },
  { cpu: 2048, minMiB: 4096, maxMiB: 16384, stepMiB: 1024 },
  { cpu: 4096, minMiB: 8192, maxMiB: 30720, stepMiB: 1024 },
  { cpu: 8192, minMiB: 16384, maxMiB: 61440, stepMiB: 4096 },
  { cpu: 16384, minMiB: 32768, maxMiB: 122880, stepMiB: 8192 },
] as const;

/** Every valid (cpu, memory) pair, in no particular order. */
export const FARGATE_SIZES: readonly FargateSize[] = FARGATE_CPU_ROWS.flatMap((row) => {
  const memories: number[] = [];
  for (let m = row.minMiB; m <= row.maxMiB; m += row.stepMiB) memories.push(m);
  for (const m of row.extra ?? []) memories.push(m);
  return memories.map((memoryMiB) => ({ cpu: row.cpu, memoryMiB }));
});

/** us-east-1 on-demand list prices; cost figures elsewhere read them from bench/prices. */
const VCPU_HOUR_USD = 0.04048;
const GB_HOUR_USD = 0.004445;

/** Hourly price in micro-dollars as an integer-friendly number, for comparisons only. */
export function hourlyPriceUsd(size: FargateSize): number {
  return (size.cpu / 1024) * VCPU_HOUR_USD + (size.memoryMiB / 1024) * GB_HOUR_USD;
}

const BY_PRICE: readonly FargateSize[] = [...FARGATE_SIZES].sort(
  (a, b) => hourlyPriceUsd(a) - hourlyPriceUsd(b) || a.cpu - b.cpu || a.memoryMiB - b.memoryMiB,
);

export const LARGEST_FARGATE_SIZE: FargateSize = { cpu: 16384, memoryMiB: 122880 };

export type SizingDecision = {
  size: FargateSize;
  /** Set when the limit is larger than any Fargate task: the run gets the largest size and is told so. */
  note?: string;
};

export const KIB_PER_MIB = 1024;

/** The cheapest valid Fargate pair whose memory holds the limit (KiB, as DataHub's EXECUTOR_TASK_MEMORY_LIMIT). */
export function chooseFargateSize(memoryLimitKiB: number): SizingDecision {
  if (!Number.isSafeInteger(memoryLimitKiB) || memoryLimitKiB < 1) {
    throw new RangeError(`memoryLimitKiB must be a positive integer, got ${memoryLimitKiB}`);
  }
  const neededMiB = Math.ceil(memoryLimitKiB / KIB_PER_MIB);
  const cheapest = BY_PRICE.find((size) => size.memoryMiB >= neededMiB);
  if (cheapest !== undefined) return { size: cheapest };
  return {
    size: LARGEST_FARGATE_SIZE,
    note:
      `memory limit ${memoryLimitKiB} KiB (${neededMiB} MiB) is above the largest Fargate task ` +
      `(${LARGEST_FARGATE_SIZE.memoryMiB} MiB, ${LARGEST_FARGATE_SIZE.cpu / 1024} vCPU); running at the largest size`,
  };
}

export function describeFargateSize(size: FargateSize): string {
  return `${size.cpu / 1024} vCPU / ${size.memoryMiB} MiB`;
}
