import { randomUUID } from "node:crypto";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { Keys } from "../../functions/adapters/dynamodb/table-keys.js";
import { documentClient } from "../../functions/config/create-aws-deps.js";
import { benchMessage, LAMBDA_CONTEXT, type LocalExecutor, sqsEvent } from "../support/local-executor.js";
import { motoCpuSeconds } from "../support/moto-cpu.js";
import { type BenchOptions, fixed, mean, ratio, type SectionReport, table } from "../support/report.js";

const POOLS = 10;
const WORKERS = 4;
const BATCH = 10;
const CONCURRENCY = [1, 4, 8] as const;
/**
 * Messages per run: 1,000 with one dispatcher (the queue-growth curve needs them all); fewer with 4 and 8, whose
 * rates are steady long before (moto is the limit), to keep `npm run bench` under 10 minutes on 2 cores.
 */
const MESSAGES: Record<(typeof CONCURRENCY)[number], number> = { 1: 1000, 4: 200, 8: 200 };

type Run = {
  concurrency: number;
  messages: number;
  seconds: number;
  /** From the start to the last RunTask: launches happen only while pools have room. */
  launchSeconds: number;
  admitted: number;
  launched: number;
  calls: number;
  failures: number;
  /** moto's CPU seconds over the run's wall seconds: near 1 means moto was the limit. */
  motoBusy: number;
};

/**
 * Section 3: 1,000 intake messages through the real dispatch handler with 1, 4 and 8 dispatchers at once,
 * against moto. Also the work per message as the queues grow, and moto's own ceiling for one simple call.
 */
export async function measureDispatchThroughput(
  executor: LocalExecutor,
  options: BenchOptions,
): Promise<SectionReport> {
  const runs: Run[] = [];
  let growth: { depth: string; perMessage: number }[] = [];
  for (const concurrency of CONCURRENCY) {
    const messages = options.smoke ? 40 : MESSAGES[concurrency];
    const result = await dispatchAll(executor, messages, concurrency);
    runs.push(result.run);
    if (concurrency === 1) growth = result.growth;
    options.progress(
      `dispatch: ${concurrency} dispatcher(s): ${fixed(result.run.admitted / result.run.seconds, 1)} admitted/s`,
    );
  }
  const ceiling = await measureMotoCeiling(executor, options.smoke ? 20 : 300);

  const problems: string[] = [];
  for (const run of runs) {
    if (run.failures > 0) problems.push(`${run.concurrency} dispatchers: ${run.failures} records failed`);
    if (run.launched !== Math.min(run.messages, POOLS * WORKERS)) {
      problems.push(
        `${run.concurrency} dispatchers: ${run.launched} launched, expected ${Math.min(run.messages, POOLS * WORKERS)}`,
      );
    }
  }
  const [one] = runs as [Run];
  const callsPerSecond = (run: Run) => run.calls / run.seconds;
  const markdown = [
    `${runs.map((r) => `${r.messages.toLocaleString("en-US")}`).join(", ")} messages (with ${CONCURRENCY.join(", ")} dispatchers), round-robin over ${POOLS} pools of ${WORKERS} workers (weight ` +
      `0.25 each): ${POOLS * WORKERS} launch, the rest wait. Each dispatcher takes the next batch of ${BATCH} and ` +
      "invokes the real dispatch handler, as concurrent Lambda invocations would. Baseline: one dispatcher.",
    "",
    ...table(
      [
        "dispatchers",
        "admitted/s",
        "launched/s while pools had room",
        "AWS calls/s",
        "AWS calls per message",
        "moto CPU busy",
        "ratio (admitted/s vs 1)",
      ],
      runs.map((run) => [
        run.concurrency,
        fixed(run.admitted / run.seconds, 1),
        fixed(run.launched / run.launchSeconds, 1),
        fixed(callsPerSecond(run), 0),
        fixed(run.calls / run.admitted, 2),
        `${fixed(run.motoBusy * 100, 0)}%`,
        ratio(run.admitted / run.seconds, one.admitted / one.seconds, 2),
      ]),
    ),
    "",
    `Where moto is the bottleneck: it answers one request at a time, and its CPU was busy ` +
      `${runs.map((r) => `${fixed(r.motoBusy * 100, 0)}%`).join(", ")} of the wall time with ${CONCURRENCY.join(", ")} ` +
      `dispatchers (100% = one core). Its simplest call alone (GetItem on a pool) runs at ${fixed(ceiling.serial, 0)}/s ` +
      `from one caller and ${fixed(ceiling.concurrent, 0)}/s from 8; the dispatch mix (transactions, queue queries) ` +
      "costs it more per call. Each batch's 10 records already run concurrently inside one invocation (Powertools " +
      "BatchProcessor); more dispatchers add only what moto has left (moto busy " +
      `${fixed(one.motoBusy * 100, 0)}% with one, ${fixed(((runs.at(-1) as Run).motoBusy ?? Number.NaN) * 100, 0)}% ` +
      "with eight; the rest of a core goes to this Node process and the machine's other work). On AWS the limit " +
      "is each pool's counter item (about 1,000 writes/s) and RunTask's 20 calls/s.",
    "",
    "Work per message as the queues grow (one dispatcher; depth = runs waiting in all pools when the batch came):",
    "",
    ...table(
      ["runs waiting", "AWS calls per message"],
      growth.map((g) => [g.depth, fixed(g.perMessage, 2)]),
    ),
    "",
    `Flat: a waiting run costs the same calls whether ${growth[0]?.depth ?? "few"} or ${growth.at(-1)?.depth ?? "many"} ` +
      `runs wait (ratio last / first bucket ${ratio(growth.at(-1)?.perMessage ?? Number.NaN, growth[0]?.perMessage ?? Number.NaN, 2)}): ` +
      "the scheduler reads only the head page of a queue and stops at the first run that does not fit.",
  ];
  if (growth.length > 1) {
    const first = growth[0]?.perMessage ?? 0;
    const last = growth.at(-1)?.perMessage ?? 0;
    if (last > first * 1.5)
      problems.push(`work per message grew with the queue: ${fixed(first, 2)} → ${fixed(last, 2)}`);
  }
  return { title: "3. Dispatch throughput", markdown, problems };
}

async function dispatchAll(
  executor: LocalExecutor,
  messages: number,
  concurrency: number,
): Promise<{ run: Run; growth: { depth: string; perMessage: number }[] }> {
  const pools = Object.fromEntries(
    Array.from({ length: POOLS }, (_, i) => [`pool-${i}`, { ingestionMaxWorkers: WORKERS }] as const),
  );
  const bench = await executor.freshStack(pools);
  const bodies = Array.from({ length: messages }, (_, i) => {
    const id = randomUUID();
    return { id, body: benchMessage(id, `pool-${i % POOLS}`) };
  });
  let launched = 0;
  let lastLaunchAt = 0;
  const stop = bench.onLaunch((_runId, atMs) => {
    launched++;
    lastLaunchAt = atMs;
  });
  let next = 0;
  let admitted = 0;
  let failures = 0;
  let calls = 0;
  const samples: { waiting: number; calls: number; messages: number }[] = [];
  executor.counter.enabled = true;
  const motoBefore = motoCpuSeconds();
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const from = next;
      next += BATCH;
      if (from >= bodies.length) return;
      const batch = bodies.slice(from, from + BATCH);
      const waiting = admitted - launched;
      const before = executor.counter.count;
      const { batchItemFailures } = await bench.dispatch(sqsEvent(batch), LAMBDA_CONTEXT);
      failures += batchItemFailures.length;
      admitted += batch.length - batchItemFailures.length;
      if (concurrency === 1) samples.push({ waiting, calls: executor.counter.count - before, messages: batch.length });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const motoAfter = motoCpuSeconds();
  const motoBusy =
    motoBefore === undefined || motoAfter === undefined ? Number.NaN : (motoAfter - motoBefore) / seconds;
  calls = executor.counter.take().length;
  executor.counter.enabled = false;
  stop();
  return {
    run: {
      concurrency,
      messages,
      seconds,
      launchSeconds: (lastLaunchAt - started) / 1000,
      admitted,
      launched,
      calls,
      failures,
      motoBusy,
    },
    growth: bucket(samples, messages),
  };
}

function bucket(samples: { waiting: number; calls: number; messages: number }[], messages: number) {
  const edges = [0, 0.1, 0.3, 0.6, 1].map((f) => Math.round(f * messages));
  const rows: { depth: string; perMessage: number }[] = [];
  for (let i = 0; i < edges.length - 1; i++) {
    const low = edges[i] as number;
    const high = edges[i + 1] as number;
    const inside = samples.filter((s) => s.waiting >= low && s.waiting < high);
    if (inside.length === 0) continue;
    const perMessage = mean(inside.map((s) => s.calls / s.messages));
    rows.push({ depth: `${low}-${high}`, perMessage });
  }
  return rows;
}

async function measureMotoCeiling(
  executor: LocalExecutor,
  calls: number,
): Promise<{ serial: number; concurrent: number }> {
  const bench = await executor.freshStack({ ceiling: {} });
  const doc = documentClient(executor.clients.dynamodb);
  const get = () => doc.send(new GetCommand({ TableName: bench.stack.config.tableName, Key: Keys.pool("ceiling") }));
  let started = performance.now();
  for (let i = 0; i < calls; i++) await get();
  const serial = calls / ((performance.now() - started) / 1000);
  started = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = 0; i < calls / 8; i++) await get();
    }),
  );
  const concurrent = calls / ((performance.now() - started) / 1000);
  return { serial, concurrent };
}
