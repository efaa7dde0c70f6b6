/**
 * npm run bench: every benchmark of issue 7, each section printing ours beside its baseline from the same run,
 * written to bench/RESULTS.md with the machine, the date and the command.
 * npm run bench:smoke: every section with tiny sizes; writes to a temp file, never to RESULTS.md, and exits
 * non-zero when an invariant breaks (a sizing mismatch, a budget overrun, a run that never finished).
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { measureCallsAndCost } from "./sections/calls-and-cost.js";
import { measureColdStart } from "./sections/cold-start.js";
import { measureDispatchThroughput } from "./sections/dispatch-throughput.js";
import { measureFargateSizingWaste } from "./sections/fargate-sizing-waste.js";
import { measureReleaseLatency } from "./sections/release-latency.js";
import { measureSchedulerAtScale } from "./sections/scheduler-at-scale.js";
import { describeMachine } from "./support/describe-machine.js";
import { LocalExecutor } from "./support/local-executor.js";
import type { BenchOptions, SectionReport } from "./support/report.js";

const smoke = process.argv.includes("--smoke");
const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice("--only=".length);
const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "RESULTS.md");

type Section = {
  id: string;
  run: (options: BenchOptions, executor: () => Promise<LocalExecutor>) => Promise<SectionReport>;
};

const SECTIONS: Section[] = [
  { id: "calls", run: async (options, executor) => measureCallsAndCost(await executor(), options) },
  { id: "latency", run: async (options, executor) => measureReleaseLatency(await executor(), options) },
  { id: "throughput", run: async (options, executor) => measureDispatchThroughput(await executor(), options) },
  { id: "cold-start", run: async (options) => measureColdStart(options) },
  { id: "scheduler", run: async (options) => measureSchedulerAtScale(options) },
  { id: "sizing", run: async (options) => measureFargateSizingWaste(options) },
];

async function main(): Promise<void> {
  const started = Date.now();
  const options: BenchOptions = { smoke, progress: (line) => process.stderr.write(`[bench] ${line}\n`) };
  let executor: LocalExecutor | undefined;
  const lazyExecutor = async () => {
    executor ??= await LocalExecutor.start();
    return executor;
  };
  const reports: SectionReport[] = [];
  try {
    for (const section of SECTIONS) {
      if (only !== undefined && section.id !== only) continue;
      const sectionStarted = Date.now();
      options.progress(`section ${section.id} ...`);
      const report = await section.run(options, lazyExecutor);
      reports.push(report);
      const seconds = ((Date.now() - sectionStarted) / 1000).toFixed(1);
      process.stdout.write(`\n## ${report.title} (${seconds} s)\n\n${report.markdown.join("\n")}\n`);
    }
  } finally {
    await executor?.stop();
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  const command = smoke ? "npm run bench:smoke" : "npm run bench";
  const document = [
    "# Benchmark results",
    "",
    `Written by \`${command}\` (bench/run-bench.ts) on ${new Date().toISOString()} in ${seconds} s. Do not edit by ` +
      "hand: run the bench again. docs/benchmarks.md says what each section measures and why.",
    "",
    "## Machine",
    "",
    ...describeMachine(),
    ...reports.flatMap((report) => ["", `## ${report.title}`, "", ...report.markdown]),
    "",
  ].join("\n");
  const out = smoke || only !== undefined ? join(tmpdir(), `dhx-bench-${smoke ? "smoke" : only}-results.md`) : RESULTS;
  writeFileSync(out, document);
  options.progress(`wrote ${out} (${seconds} s)`);
  const problems = reports.flatMap((report) => report.problems.map((p) => `${report.title}: ${p}`));
  if (problems.length > 0) {
    process.stderr.write(`bench found broken invariants:\n${problems.map((p) => `  - ${p}`).join("\n")}\n`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
