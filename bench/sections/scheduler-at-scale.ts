import { createHash } from "node:crypto";
import { chooseFargateSize, hourlyPriceUsd } from "../../functions/core/fargate-sizing.js";
import { CLASS_BUDGET_MICRO, formatWeight } from "../../functions/core/weights.js";
import { DEFAULT_TRACE, generateTrace } from "../scheduler/generate-trace.js";
import { seededRandom } from "../scheduler/seeded-random.js";
import { Policy, type PolicyResult, simulatePolicy } from "../scheduler/simulate-policies.js";
import { type BenchOptions, fixed, percentile, ratio, type SectionReport, table } from "../support/report.js";

const MINUTE_MS = 60_000;

/**
 * Section 5: a seeded trace replayed through our scheduling policy (core helpers: queueKeyFor, fits) beside a
 * count-limited FIFO and an unordered retry baseline. Pure: no AWS, no clock but the CPU time it reports.
 */
export function measureSchedulerAtScale(options: BenchOptions): SectionReport {
  const traceOptions = options.smoke ? { ...DEFAULT_TRACE, runs: 500, pools: 5 } : DEFAULT_TRACE;
  const trace = generateTrace(traceOptions);
  const fingerprint = createHash("sha256").update(JSON.stringify(trace)).digest("hex").slice(0, 16);
  // One untimed replay first, so the timed ones do not pay for the JIT's warm-up.
  simulatePolicy(trace, Policy.STRICT_PRIORITY_FIFO, seededRandom(traceOptions.seed + 1));
  const results = Object.values(Policy).map((policy) => {
    const result = simulatePolicy(trace, policy, seededRandom(traceOptions.seed + 1));
    options.progress(`scheduler: ${policy} done in ${fixed(result.elapsedMs, 0)} ms`);
    return result;
  });
  const [ours, countFifo, retry] = results as [PolicyResult, PolicyResult, PolicyResult];

  const problems: string[] = [];
  for (const result of results) {
    if (result.waitsMs.length !== trace.length)
      problems.push(`${result.policy}: ${result.waitsMs.length} of ${trace.length} runs started`);
  }
  if (ours.maxUsedMicro > CLASS_BUDGET_MICRO)
    problems.push(`ours went over the budget: ${formatWeight(ours.maxUsedMicro)}`);
  if (ours.missedStarts > 0) problems.push(`ours left a fitting head waiting ${ours.missedStarts} times`);

  const minutes = (ms: number) => fixed(ms / MINUTE_MS, 1);
  const row = (label: string, value: (r: PolicyResult) => number, show: (v: number) => string, digits = 2) => [
    label,
    ...results.map((r) => show(value(r))),
    ratio(value(countFifo), value(ours), digits),
    ratio(value(retry), value(ours), digits),
  ];
  const heavyRuns = trace.filter((run) => run.weightMicro === CLASS_BUDGET_MICRO).length;
  const fargateHours = trace.reduce(
    (sum, run) => sum + (run.durationMs / 3_600_000) * hourlyPriceUsd(chooseFargateSize(run.memoryLimitKiB).size),
    0,
  );
  // Offered load: Σ weight × duration over (pools × horizon); above 1 a pool's queue can only grow.
  const offered =
    trace.reduce((sum, run) => sum + (run.weightMicro / CLASS_BUDGET_MICRO) * run.durationMs, 0) /
    (traceOptions.pools * traceOptions.hours * 3_600_000);
  const markdown = [
    `Trace: ${trace.length.toLocaleString("en-US")} runs over ${traceOptions.pools} pools in ${traceOptions.hours} h ` +
      `(seed ${traceOptions.seed}, fingerprint ${fingerprint}; bench/scheduler/generate-trace.ts): weights 0.1-1.0 ` +
      `(${heavyRuns} runs of weight 1.0), memory limits 1-30 GiB, log-normal durations (median 12 min), 60% ` +
      `arriving on the hour, 10% at a higher priority; offered load ${fixed(offered * 100, 0)}% of the pools' ` +
      "weight budgets on average. Each policy replays it to the end; Fargate time at the " +
      `sizes ours picks would cost $${fixed(fargateHours, 2)}.`,
    "",
    ...table(
      ["", ...results.map((r) => r.policy), "ratio count-FIFO / ours", "ratio retry / ours"],
      [
        row(
          "weight-budget utilisation while runs wait",
          (r) => r.utilisationWhileWaiting * 100,
          (v) => `${fixed(v, 1)}%`,
        ),
        row(
          "time over the weight budget while runs wait",
          (r) => r.overBudgetShare * 100,
          (v) => `${fixed(v, 1)}%`,
        ),
        row(
          "largest Σ weights running in a pool",
          (r) => r.maxUsedMicro / CLASS_BUDGET_MICRO,
          (v) => fixed(v, 2),
        ),
        row("p50 wait, min", (r) => percentile(r.waitsMs, 50), minutes),
        row("p99 wait, min", (r) => percentile(r.waitsMs, 99), minutes),
        row("longest wait of a weight-1.0 run, min", (r) => Math.max(0, ...r.wholeBudgetWaitsMs), minutes),
        row("p99 wait of weight-1.0 runs, min", (r) => percentile(r.wholeBudgetWaitsMs, 99), minutes),
        row(
          "scheduling decisions",
          (r) => r.decisions,
          (v) => v.toLocaleString("en-US"),
        ),
        row(
          "decisions per second inside the scheduling passes",
          (r) => r.decisions / (r.schedulingMs / 1000),
          (v) => Math.round(v).toLocaleString("en-US"),
        ),
        row(
          "decisions per second, whole replay (event heap included)",
          (r) => r.decisions / (r.elapsedMs / 1000),
          (v) => Math.round(v).toLocaleString("en-US"),
        ),
      ],
    ),
    "",
    "Utilisation counts only time when a pool has runs waiting: the budget an idle queue leaves unused is the " +
      "price of strict order (a heavy head blocks lighter runs behind it). The count-limited FIFO fills slots " +
      "regardless of weight, so it goes over the budget; the unordered retry keeps within it but lets light runs " +
      "overtake, which starves the weight-1.0 runs.",
  ];
  return { title: "5. Scheduler at scale (simulation)", markdown, problems };
}
