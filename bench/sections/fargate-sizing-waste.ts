import {
  chooseFargateSize,
  FARGATE_SIZES,
  type FargateSize,
  hourlyPriceUsd,
  KIB_PER_MIB,
} from "../../functions/core/fargate-sizing.js";
import { fargateHourlyUsd } from "../prices.js";
import { type BenchOptions, fixed, mean, ratio, type SectionReport, table } from "../support/report.js";

/**
 * The Fargate table as aws-facts.md prints it, typed in again here on purpose: the brute force must not trust
 * the table the code under test uses.
 */
const AWS_FACTS_TABLE: { cpu: number; memories: number[] }[] = [
  { cpu: 256, memories: [512, 1024, 2048] },
  { cpu: 512, memories: [1024, 2048, 3072, 4096] },
  { cpu: 1024, memories: steps(2048, 8192, 1024) },
  { cpu: 2048, memories: steps(4096, 16384, 1024) },
  { cpu: 4096, memories: steps(8192, 30720, 1024) },
  { cpu: 8192, memories: steps(16384, 61440, 4096) },
  { cpu: 16384, memories: steps(32768, 122880, 8192) },
];

function steps(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let m = from; m <= to; m += step) values.push(m);
  return values;
}

const price = (size: FargateSize) => fargateHourlyUsd(size.cpu / 1024, size.memoryMiB / 1024);

/** The cheapest pair holding `neededMiB`, by trying every pair of the independent table. */
function bruteForce(neededMiB: number): FargateSize | undefined {
  let best: FargateSize | undefined;
  for (const row of AWS_FACTS_TABLE) {
    for (const memoryMiB of row.memories) {
      if (memoryMiB < neededMiB) continue;
      const size = { cpu: row.cpu, memoryMiB };
      if (best === undefined || price(size) < price(best)) best = size;
    }
  }
  return best;
}

/**
 * Section 6: for memory limits across the whole table (every 64 MiB, and each table value, one KiB above and
 * at it), the allocated / requested memory of our choice, beside the brute-force optimum (must be equal).
 * The second baseline is one fixed size for every run (the pool default, 1 vCPU / 4 GiB is as sized when
 * nothing is chosen per run), as an always-on worker or a single task definition gives.
 */
export function measureFargateSizingWaste(options: BenchOptions): SectionReport {
  const stepMiB = options.smoke ? 4096 : 64;
  const requests = new Set<number>();
  for (let mib = stepMiB; mib <= 122880; mib += stepMiB) requests.add(mib * KIB_PER_MIB);
  for (const row of AWS_FACTS_TABLE) {
    for (const m of row.memories) {
      requests.add(m * KIB_PER_MIB);
      requests.add(m * KIB_PER_MIB + 1);
      if (m > 512) requests.add((m - 1) * KIB_PER_MIB);
    }
  }
  const problems: string[] = [];
  const ours: number[] = [];
  const optimum: number[] = [];
  const oursPrice: number[] = [];
  const optimumPrice: number[] = [];
  const tableSet = new Set(FARGATE_SIZES.map((s) => `${s.cpu}/${s.memoryMiB}`));
  const factsSet = new Set(AWS_FACTS_TABLE.flatMap((row) => row.memories.map((m) => `${row.cpu}/${m}`)));
  if (tableSet.size !== factsSet.size || [...tableSet].some((key) => !factsSet.has(key))) {
    problems.push("functions/core/fargate-sizing.ts's table differs from aws-facts.md's");
  }
  let mismatches = 0;
  for (const kib of [...requests].sort((a, b) => a - b)) {
    const neededMiB = Math.ceil(kib / KIB_PER_MIB);
    const best = bruteForce(neededMiB);
    if (best === undefined) continue;
    const chosen = chooseFargateSize(kib).size;
    ours.push(chosen.memoryMiB / (kib / KIB_PER_MIB));
    optimum.push(best.memoryMiB / (kib / KIB_PER_MIB));
    oursPrice.push(hourlyPriceUsd(chosen));
    optimumPrice.push(price(best));
    if (Math.abs(price(chosen) - price(best)) > 1e-12) {
      mismatches++;
      if (mismatches <= 3) {
        problems.push(`${kib} KiB: chose ${chosen.cpu}/${chosen.memoryMiB}, brute force ${best.cpu}/${best.memoryMiB}`);
      }
    }
  }
  const fixed4GiB = price({ cpu: 1024, memoryMiB: 4096 });
  const fitting = [...requests].filter((kib) => kib <= 4096 * KIB_PER_MIB);
  const fittingOurs = fitting.map((kib) => price(chooseFargateSize(kib).size));
  const markdown = [
    `${ours.length} memory limits from ${stepMiB} MiB to 120 GiB (every ${stepMiB} MiB, and each table value, one ` +
      "KiB above it and one MiB below it). Brute force: every (cpu, memory) pair of AWS's table, typed in again " +
      "from aws-facts.md, cheapest that holds the limit.",
    "",
    ...table(
      ["allocated / requested memory", "ours", "brute-force optimum", "ratio (ours / optimum)"],
      [
        ["mean", fixed(mean(ours), 4), fixed(mean(optimum), 4), ratio(mean(ours), mean(optimum), 4)],
        [
          "max",
          fixed(Math.max(...ours), 4),
          fixed(Math.max(...optimum), 4),
          ratio(Math.max(...ours), Math.max(...optimum), 4),
        ],
        [
          "mean hourly price, $",
          fixed(mean(oursPrice), 5),
          fixed(mean(optimumPrice), 5),
          ratio(mean(oursPrice), mean(optimumPrice), 4),
        ],
        ["limits where ours costs more than the optimum", String(mismatches), "0", ""],
      ],
    ),
    "",
    `Against one fixed size (1 vCPU / 4 GiB for every run), over the ${fitting.length} limits that fit in 4 GiB: ` +
      `ours costs ${fixed(mean(fittingOurs), 5)} $/h on average, the fixed size ${fixed(fixed4GiB, 5)} $/h ` +
      `(${ratio(fixed4GiB, mean(fittingOurs), 2)}); limits above 4 GiB cannot run at the fixed size at all. ` +
      "The largest ratios are at the bottom of the table (a 64 MiB limit still gets 512 MiB) and just past a " +
      "table step.",
  ];
  return { title: "6. Fargate sizing waste", markdown, problems };
}
