import { randomUUID } from "node:crypto";
import { isTerminal } from "../../functions/core/run-record.js";
import {
  ALWAYS_ON_WORKERS,
  fargateHourlyUsd,
  HOURS_PER_MONTH,
  LAMBDA_MEMORY_GB,
  MINUTES_PER_MONTH,
  PRICES_USD,
} from "../prices.js";
import { type AwsCall, countByOperation } from "../support/aws-call-counter.js";
import { benchMessage, LAMBDA_CONTEXT, type LocalExecutor, sqsEvent } from "../support/local-executor.js";
import { type BenchOptions, fixed, ratio, type SectionReport, table, usd } from "../support/report.js";
import { measureIntakeIdle } from "./measure-intake-idle.js";

/** What ECS emits for one Fargate task's life; each one invokes the task-state-change Lambda. */
const TASK_EVENTS = ["PROVISIONING", "PENDING", "RUNNING", "DEPROVISIONING"] as const;
const DISPATCH_BATCH = 10;
/** The GMS intake's poll interval is a stage setting (5-60 s); two representative values. */
const INTAKE_POLL_INTERVALS = [60, 20] as const;
/** Lambda's SQS event source long-polls an idle queue; AWS describes five pollers, 20 s polls (an estimate). */
const IDLE_SQS_POLLS_PER_MINUTE = 5 * 3;

type Cost = { lambdaRequests: number; lambdaGbSeconds: number; writeUnits: number; readUnits: number; sqs: number };

/**
 * Section 1: N runs through their whole life against moto (admit, launch, ECS events, stop, release, next
 * launch), every AWS call counted by a middleware, priced per 1,000 runs beside the always-on worker.
 */
export async function measureCallsAndCost(executor: LocalExecutor, options: BenchOptions): Promise<SectionReport> {
  const runs = options.smoke ? 12 : 60;
  const bench = await executor.freshStack({ bench: { ingestionMaxWorkers: 4 } });
  const gmsBefore = executor.gms.requests.length;
  let invocations = 0;
  let handlerMs = 0;
  const invoke = async <T>(call: () => Promise<T>): Promise<T> => {
    invocations++;
    const started = performance.now();
    try {
      return await call();
    } finally {
      handlerMs += performance.now() - started;
    }
  };

  // Which runs were launched, and in what order, is read off the RunTask calls themselves.
  const launched: string[] = [];
  const stopListening = bench.onLaunch((runId) => launched.push(runId));
  executor.counter.enabled = true;
  const urns = Array.from({ length: runs }, () => randomUUID());
  for (let i = 0; i < urns.length; i += DISPATCH_BATCH) {
    const batch = urns.slice(i, i + DISPATCH_BATCH).map((id) => ({ id, body: benchMessage(id, "bench") }));
    await invoke(() => bench.dispatch(sqsEvent(batch), LAMBDA_CONTEXT));
  }
  let finished = 0;
  while (launched.length > 0) {
    const runId = launched.shift() as string;
    const run = await bench.uncounted(() => bench.deps.runs.getRun(runId));
    if (run === undefined) throw new Error(`run ${runId} vanished`);
    for (const [i, status] of TASK_EVENTS.entries()) {
      await invoke(() => bench.taskStateChange(bench.taskEvent(run, status, i + 1)));
    }
    await bench.stopTask(run);
    await invoke(() => bench.taskStateChange(bench.taskEvent(run, "STOPPED", TASK_EVENTS.length + 1, 0)));
    const after = await bench.uncounted(() => bench.deps.runs.getRun(runId));
    if (after !== undefined && isTerminal(after.state)) finished++;
  }
  stopListening();
  const calls = executor.counter.take();
  const meanCallMs = calls.reduce((sum, call) => sum + call.durationMs, 0) / Math.max(1, calls.length);
  const sizes = await bench.itemSizes();
  const perRun = computeCost(calls, sizes, { invocations, handlerMs, runs, intake: true });

  // Idle: one reconcile pass a minute over one quiet pool, and Lambda's pollers on the empty intake queue.
  const gmsBeforeIdle = executor.gms.requests.length;
  const reconcileStarted = performance.now();
  await bench.reconcile();
  const reconcileMs = performance.now() - reconcileStarted;
  const idleCalls = executor.counter.take();
  const idleGms = executor.gms.requests.length - gmsBeforeIdle;
  executor.counter.enabled = false;
  const gmsRequests = executor.gms.requests.slice(gmsBefore, gmsBeforeIdle);
  const idlePass = computeCost(idleCalls, sizes, { invocations: 1, handlerMs: reconcileMs, runs: 1, intake: false });
  const idleMonthly =
    priceOf(idlePass) * MINUTES_PER_MONTH + IDLE_SQS_POLLS_PER_MINUTE * MINUTES_PER_MONTH * PRICES_USD.sqsPerRequest;

  const per1000 = priceOf(perRun) * 1000;

  // The optional GMS intake Lambda (runs picked up from DataHub's UI) is a second always-scheduled function.
  const idleVariants: { label: string; monthly: number }[] = [{ label: "", monthly: idleMonthly }];
  const intakeNotes: string[] = [];
  for (const interval of INTAKE_POLL_INTERVALS) {
    const intake = await measureIntakeIdle(bench, interval);
    const pass = computeCost(intake.calls, sizes, {
      invocations: 1,
      handlerMs: intake.billedMs,
      runs: 1,
      intake: false,
    });
    idleVariants.push({
      label: ` + GMS intake polling every ${interval} s`,
      monthly: idleMonthly + priceOf(pass) * MINUTES_PER_MONTH,
    });
    intakeNotes.push(
      `every ${interval} s: ${intake.calls.length} AWS calls, ${intake.gmsRequests} GMS requests and ` +
        `${fixed(intake.billedMs, 0)} ms billed per minute`,
    );
  }
  const problems: string[] = [];
  if (finished !== runs) problems.push(`only ${finished} of ${runs} runs finished`);
  if (calls.length === 0) problems.push("no AWS call was counted");
  if (executor.gms.violations.length > 0)
    problems.push(`stub GMS saw protocol violations: ${executor.gms.violations[0]?.problem}`);

  const byOperation = countByOperation(calls);
  const markdown = [
    `${runs} runs through their whole life in one pool of 4 workers (weight 0.25 each, so 4 run at a time): ` +
      `dispatch in batches of ${DISPATCH_BATCH}, ${TASK_EVENTS.length + 1} ECS Task State Change events per task ` +
      `(${[...TASK_EVENTS, "STOPPED"].join(", ")}), StopTask by the harness (that is ECS's doing, not counted), ` +
      "the next waiting run launched by the release. Calls counted by an SDK middleware after retries.",
    "",
    ...table(
      ["AWS call or GMS request", "total", "per run"],
      [
        ...[...byOperation].map(([op, n]): [string, number, string] => [op, n, fixed(n / runs, 2)]),
        ...[...countGmsRequests(gmsRequests)].map(([op, n]): [string, number, string] => [op, n, fixed(n / runs, 2)]),
      ],
    ),
    "",
    ...table(
      ["per run", "value"],
      [
        ["AWS API calls", fixed(calls.length / runs, 2)],
        ["GMS requests (stub GMS)", fixed(gmsRequests.length / runs, 2)],
        ["Lambda invocations", fixed(invocations / runs, 2)],
        ["Lambda time, ms (measured against moto)", fixed(handlerMs / runs, 1)],
        ["DynamoDB write units (transactions ×2, GSI included)", fixed(perRun.writeUnits, 2)],
        ["DynamoDB read units (strongly consistent)", fixed(perRun.readUnits, 2)],
        ["SQS requests (send, trigger's receive and delete per batch of 10)", fixed(perRun.sqs, 2)],
      ],
    ),
    "",
    ...table(
      ["cost", "ours", "baseline", "ratio (baseline / ours)"],
      [
        ...idleVariants.flatMap((variant) =>
          ALWAYS_ON_WORKERS.map((worker) => {
            const monthly = fargateHourlyUsd(worker.vcpu, worker.memoryGb) * HOURS_PER_MONTH;
            return [
              `idle month: ours${variant.label} vs ${worker.name}`,
              usd(variant.monthly),
              usd(monthly),
              ratio(monthly, variant.monthly, 1),
            ];
          }),
        ),
        ...ALWAYS_ON_WORKERS.map((worker) => {
          const monthly = fargateHourlyUsd(worker.vcpu, worker.memoryGb) * HOURS_PER_MONTH;
          return [
            `orchestration per 1,000 runs vs ${worker.name} per month`,
            usd(per1000),
            usd(monthly),
            `break-even at ${Math.round((monthly / per1000) * 1000).toLocaleString("en-US")} runs/month`,
          ];
        }),
      ],
    ),
    "",
    `GMS intake (optional; a scheduled invocation a minute that stays up between its polls, so Lambda bills the ` +
      `waits): ${intakeNotes.join("; ")}.`,
    "",
    `Idle: one reconcile pass a minute (${idleCalls.length} AWS calls, ${idleGms} GMS requests, ${fixed(reconcileMs, 0)} ms here) plus ` +
      `about ${IDLE_SQS_POLLS_PER_MINUTE} empty SQS long-polls a minute by Lambda's event source (an estimate). ` +
      "Orchestration excludes the runs' own Fargate time, which both designs pay (the always-on worker pays it " +
      `inside its fixed size). Lambda time is measured against moto, whose calls took ${fixed(meanCallMs, 1)} ms on ` +
      "average here (DynamoDB answers in single-digit ms), so the Lambda share is an upper bound; it is priced " +
      `at ${LAMBDA_MEMORY_GB * 1024} MB.`,
  ];
  return { title: "1. Calls and cost per run", markdown, problems };
}

function computeCost(
  calls: readonly AwsCall[],
  sizes: Map<string, number>,
  { invocations, handlerMs, runs, intake }: { invocations: number; handlerMs: number; runs: number; intake: boolean },
): Cost {
  let writeUnits = 0;
  let readUnits = 0;
  let sqs = 0;
  for (const call of calls) {
    if (call.service === "SQS") sqs++;
    if (call.service !== "DynamoDB") continue;
    for (const write of call.writes) {
      const bytes = write.bytes ?? sizes.get(write.key) ?? 1024;
      writeUnits += Math.max(1, Math.ceil(bytes / 1024)) * (write.transactional ? 2 : 1);
      if (write.touchesActivityIndex) writeUnits += 1;
    }
    if (["GetItem", "Query", "Scan"].includes(call.operation))
      readUnits += Math.max(1, Math.ceil(call.readBytes / 4096));
  }
  // The producer's SendMessage, and the trigger's ReceiveMessage + DeleteMessageBatch per batch.
  const triggerSqs = intake ? 1 + 2 / DISPATCH_BATCH : 0;
  return {
    lambdaRequests: invocations / runs,
    lambdaGbSeconds: ((handlerMs / 1000) * LAMBDA_MEMORY_GB) / runs,
    writeUnits: writeUnits / runs,
    readUnits: readUnits / runs,
    sqs: sqs / runs + triggerSqs,
  };
}

function priceOf(cost: Cost): number {
  return (
    cost.lambdaRequests * PRICES_USD.lambdaPerRequest +
    cost.lambdaGbSeconds * PRICES_USD.lambdaPerGbSecond +
    cost.writeUnits * PRICES_USD.dynamodbPerWriteUnit +
    cost.readUnits * PRICES_USD.dynamodbPerReadUnit +
    cost.sqs * PRICES_USD.sqsPerRequest
  );
}

/** GMS requests by kind: "POST ingestProposal <aspect>" or "GET <aspect>". */
function countGmsRequests(requests: readonly { method: string; path: string; body: unknown }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of requests) {
    const url = new URL(request.path, "http://gms");
    const aspect =
      request.method === "POST"
        ? ((request.body as { proposal?: { aspectName?: string } } | undefined)?.proposal?.aspectName ?? "?")
        : (url.searchParams.get("aspect") ?? "?");
    const key = `GMS ${request.method} ${aspect}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return new Map([...counts].sort(([a], [b]) => a.localeCompare(b)));
}
