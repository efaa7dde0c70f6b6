import { randomUUID } from "node:crypto";
import { RunTaskCommand } from "@aws-sdk/client-ecs";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { Keys } from "../../functions/adapters/dynamodb/table-keys.js";
import { documentClient } from "../../functions/config/create-aws-deps.js";
import { CapacityClass, capMinusWeight, defaultWeightMicro } from "../../functions/core/weights.js";
import {
  type BenchStack,
  benchMessage,
  LAMBDA_CONTEXT,
  type LocalExecutor,
  sqsEvent,
} from "../support/local-executor.js";
import { type BenchOptions, fixed, median, percentile, ratio, type SectionReport, table } from "../support/report.js";

const WORKERS = 4;
/** Runs kept waiting behind the full pool, in both designs. */
const WAITING = 4;
/**
 * The baseline's visibility backoff: 1 s doubling to 8 s, jittered ×0.5-1, as SQS consumers do. A run that waits
 * behind a full pool soon reaches the cap, so the harness starts every waiting run there (see measureBaseline).
 */
const BACKOFF = { firstSeconds: 1, capSeconds: 8 } as const;
/** The baseline short-polls this often: more eager (and costlier) than a real consumer, so it flatters it. */
const BASELINE_POLL_MS = 100;

/**
 * Section 2: with a full pool and runs waiting, the time from a STOPPED event entering our handler to the next
 * RunTask, beside an executor with no DynamoDB queue whose waiting runs are SQS messages re-polled with
 * visibility-timeout backoff.
 */
export async function measureReleaseLatency(executor: LocalExecutor, options: BenchOptions): Promise<SectionReport> {
  const releases = options.smoke ? 3 : 60;
  const baselineReleases = options.smoke ? 2 : 12;
  const bench = await executor.freshStack({ bench: { ingestionMaxWorkers: WORKERS }, baseline: {} });
  const { latencies: ours, callsBefore, motoMs } = await measureOurs(bench, releases);
  options.progress(`release latency: ours done (median ${fixed(median(ours), 1)} ms); baseline ...`);
  const baseline = await measureBaseline(bench, baselineReleases);

  const problems: string[] = [];
  if (ours.length !== releases) problems.push(`ours: ${ours.length} of ${releases} releases launched a run`);
  if (baseline.latencies.length !== baselineReleases) {
    problems.push(`baseline: ${baseline.latencies.length} of ${baselineReleases} releases launched a run`);
  }
  const markdown = [
    `Pool of ${WORKERS} workers, all busy, ${WAITING} or more runs waiting. Ours: the STOPPED event enters the ` +
      "task-state-change handler; it releases the weight and its scheduler launches the head of the queue. " +
      `Baseline: the waiting runs are SQS messages; a consumer short-polls every ${BASELINE_POLL_MS} ms, takes ` +
      "the weight with the same conditional counter update, and on no room sets the message's visibility to " +
      `${BACKOFF.firstSeconds} s doubling to ${BACKOFF.capSeconds} s, jittered ×0.5-1 (a run waiting behind a full ` +
      "pool is at the cap within 15 s, so waiting runs start there, at random phases); a release only gives the " +
      `weight back. Baseline releases come at a random moment (0-1 s after the previous launch). ${releases} ` +
      `releases for ours, ${baselineReleases} for the baseline (it runs in real time).`,
    "",
    ...table(
      ["release → next RunTask", "ours", "baseline (SQS backoff)", "ratio (baseline / ours)"],
      [
        [
          "median, ms",
          fixed(median(ours), 1),
          fixed(median(baseline.latencies), 0),
          ratio(median(baseline.latencies), median(ours), 1),
        ],
        [
          "p99, ms",
          fixed(percentile(ours, 99), 1),
          fixed(percentile(baseline.latencies, 99), 0),
          ratio(percentile(baseline.latencies, 99), percentile(ours, 99), 1),
        ],
        ["max, ms", fixed(Math.max(...ours), 1), fixed(Math.max(...baseline.latencies), 0), ""],
        ["AWS calls from the event to the RunTask (median)", fixed(median(callsBefore), 0), "", ""],
        ["of ours' median, time waiting on those calls (moto), ms", fixed(median(motoMs), 1), "", ""],
        ["futile re-polls per waiting run per minute", "0", fixed(baseline.repollsPerWaitingMinute, 1), ""],
      ],
    ),
    "",
    "Ours is bounded by the calls the completion makes before its scheduler launches the next run (read the " +
      "run, release and record the outcome, report to GMS through the outbox, read the queue head, acquire), " +
      "each a moto round trip here. The baseline's latency is set by its backoff, not by " +
      "moto: a shorter cap lowers it only by polling more.",
  ];
  return { title: "2. Release-to-next-launch latency", markdown, problems };
}

async function measureOurs(
  bench: BenchStack,
  releases: number,
): Promise<{ latencies: number[]; callsBefore: number[]; motoMs: number[] }> {
  const running: string[] = [];
  const launchTimes: number[] = [];
  const stop = bench.onLaunch((runId, atMs) => {
    running.push(runId);
    launchTimes.push(atMs);
  });
  const dispatchAll = async (count: number) => {
    const ids = Array.from({ length: count }, () => randomUUID());
    for (let i = 0; i < ids.length; i += 10) {
      const batch = ids.slice(i, i + 10).map((id) => ({ id, body: benchMessage(id, "bench") }));
      await bench.dispatch(sqsEvent(batch), LAMBDA_CONTEXT);
    }
  };
  await dispatchAll(WORKERS + WAITING + releases);
  const latencies: number[] = [];
  const callsBefore: number[] = [];
  const motoMs: number[] = [];
  const counter = bench.executor.counter;
  try {
    for (let i = 0; i < releases; i++) {
      const runId = running.shift();
      if (runId === undefined) break;
      const run = await bench.deps.runs.getRun(runId);
      if (run === undefined) break;
      await bench.taskStateChange(bench.taskEvent(run, "RUNNING", 3));
      await bench.stopTask(run);
      const launchesBefore = launchTimes.length;
      counter.take();
      counter.enabled = true;
      const started = performance.now();
      await bench.taskStateChange(bench.taskEvent(run, "STOPPED", 5, 0));
      counter.enabled = false;
      const next = launchTimes[launchesBefore];
      if (next !== undefined) {
        latencies.push(next - started);
        const before = counter.take().filter((call) => call.atMs <= next);
        callsBefore.push(before.length);
        motoMs.push(before.reduce((sum, call) => sum + call.durationMs, 0));
      }
    }
  } finally {
    counter.enabled = false;
    stop();
  }
  return { latencies, callsBefore, motoMs };
}

async function measureBaseline(
  bench: BenchStack,
  releases: number,
): Promise<{ latencies: number[]; repollsPerWaitingMinute: number }> {
  const { sqs, ecs, dynamodb } = bench.executor.clients;
  const doc = documentClient(dynamodb);
  const table = bench.stack.config.tableName;
  const launch = bench.stack.config.launch;
  const weight = defaultWeightMicro(WORKERS);
  const capacityKey = Keys.capacity("baseline", CapacityClass.INGESTION);
  const { QueueUrl: queueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `baseline-${randomUUID()}` }));
  if (queueUrl === undefined) throw new Error("moto returned no queue URL");

  const launchTimes: number[] = [];
  let repolls = 0;
  let waitingMs = 0;
  let waiting = 0;
  let lastTick = performance.now();
  const tick = () => {
    const now = performance.now();
    waitingMs += waiting * (now - lastTick);
    lastTick = now;
  };
  // A waiting run arrives at a random phase of its backoff: DelaySeconds spreads first receives over the cap.
  const send = async (delaySeconds: number) => {
    tick();
    waiting++;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: benchMessage(randomUUID(), "baseline"),
        DelaySeconds: delaySeconds,
      }),
    );
  };
  const randomPhase = () => Math.floor(Math.random() * (BACKOFF.capSeconds + 1));
  const tryAcquire = async (): Promise<boolean> => {
    try {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: capacityKey,
          UpdateExpression: "SET usedMicro = usedMicro + :w",
          ConditionExpression: "usedMicro <= :capMinusW",
          ExpressionAttributeValues: { ":w": weight, ":capMinusW": capMinusWeight(weight) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === "ConditionalCheckFailedException") return false;
      throw error;
    }
  };
  const release = () =>
    doc.send(
      new UpdateCommand({
        TableName: table,
        Key: capacityKey,
        UpdateExpression: "SET usedMicro = usedMicro - :w",
        ExpressionAttributeValues: { ":w": weight },
      }),
    );

  let polling = true;
  const poller = (async () => {
    while (polling) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        }),
      );
      for (const message of Messages) {
        if (await tryAcquire()) {
          launchTimes.push(performance.now());
          await ecs.send(
            new RunTaskCommand({
              cluster: launch.cluster,
              taskDefinition: launch.taskDefinition,
              launchType: "FARGATE",
              startedBy: "baseline",
              networkConfiguration: {
                awsvpcConfiguration: { subnets: launch.subnets, securityGroups: launch.securityGroups },
              },
            }),
          );
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
          tick();
          waiting--;
          continue;
        }
        // Runs waiting behind a full pool have long reached the cap (1, 2, 4, 8 s takes 15 s).
        const backoff = BACKOFF.capSeconds;
        repolls++;
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: Math.max(1, Math.round(backoff * (0.5 + Math.random() / 2))),
          }),
        );
      }
      await sleep(BASELINE_POLL_MS);
    }
  })();

  const latencies: number[] = [];
  try {
    for (let i = 0; i < WORKERS; i++) await send(0);
    while (launchTimes.length < WORKERS) await sleep(20);
    for (let i = 0; i < WAITING; i++) await send(randomPhase());
    // Every waiting run has been received once and put back before the first release.
    await sleep((BACKOFF.capSeconds + 1) * 1000);
    repolls = 0;
    waitingMs = 0;
    tick();
    for (let i = 0; i < releases; i++) {
      await sleep(Math.random() * 1000);
      const launchesBefore = launchTimes.length;
      const started = performance.now();
      await release();
      const deadline = started + 4 * BACKOFF.capSeconds * 1000;
      while (launchTimes.length === launchesBefore && performance.now() < deadline) await sleep(5);
      const next = launchTimes[launchesBefore];
      if (next === undefined) break;
      latencies.push(next - started);
      // Keep as many runs waiting as before: a new run arrives for each one launched.
      await send(randomPhase());
    }
  } finally {
    polling = false;
    await poller;
  }
  tick();
  return { latencies, repollsPerWaitingMinute: waitingMs > 0 ? repolls / (waitingMs / 60_000) : Number.NaN };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
