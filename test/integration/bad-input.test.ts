import type { Message } from "@aws-sdk/client-sqs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEAD_LETTER_ATTRIBUTES } from "../../functions/adapters/sqs/sqs-dead-letter-queue.js";
import { runIdFor } from "../../functions/core/plan-run.js";
import { createFixture, type Fixture, runMessage } from "../support/executor-fixture.js";
import { hostileBody } from "../support/hostile-bodies.js";

const attribute = (message: Message, name: string) => message.MessageAttributes?.[name]?.StringValue;

const valid = JSON.parse(runMessage({ id: "template" })) as Record<string, unknown> & {
  input: Record<string, unknown>;
};
const withInput = (input: Record<string, unknown>, top: Record<string, unknown> = {}) =>
  JSON.stringify({
    ...valid,
    executionRequestUrn: `urn:li:dataHubExecutionRequest:${top.id ?? "bad"}`,
    ...top,
    input: { ...valid.input, ...input },
  });
const withArgs = (args: Record<string, unknown>, id: string) =>
  withInput(
    { args: { ...(valid.input.args as Record<string, unknown>), ...args } },
    { id: undefined, executionRequestUrn: `urn:li:dataHubExecutionRequest:${id}` },
  );

describe("bad input goes to the dead-letter queue with its reason, and loses nothing", () => {
  const badBodies: [string, string, string, RegExp][] = [
    ["not JSON", "this is not json", "NOT_JSON", /^body is not valid JSON/],
    [
      "an unknown version",
      JSON.stringify({ ...valid, version: 7 }),
      "UNKNOWN_VERSION",
      /unsupported message version 7/,
    ],
    [
      "a missing URN",
      JSON.stringify({ ...valid, executionRequestUrn: undefined }),
      "INVALID_URN",
      /executionRequestUrn is missing/,
    ],
    [
      "a malformed URN",
      JSON.stringify({ ...valid, executionRequestUrn: "urn:li:dataset:x" }),
      "INVALID_URN",
      /must look like urn:li:dataHubExecutionRequest:<id>/,
    ],
    [
      "weight 0",
      withArgs({ extra_env_vars: '{"EXECUTOR_TASK_WEIGHT":"0"}' }, "w0"),
      "INVALID_WEIGHT",
      /must be greater than 0/,
    ],
    [
      "a negative weight",
      withArgs({ extra_env_vars: '{"EXECUTOR_TASK_WEIGHT":"-1"}' }, "wneg"),
      "INVALID_WEIGHT",
      /between 0 and 1, got "-1"/,
    ],
    [
      "a weight above 1",
      withArgs({ extra_env_vars: '{"EXECUTOR_TASK_WEIGHT":"3"}' }, "wbig"),
      "INVALID_WEIGHT",
      /must be at most 1/,
    ],
    [
      "a weight that is not a number",
      withArgs({ extra_env_vars: '{"EXECUTOR_TASK_WEIGHT":"lots"}' }, "wnan"),
      "INVALID_WEIGHT",
      /got "lots"/,
    ],
    [
      "a memory limit that is not a number",
      withArgs({ extra_env_vars: '{"EXECUTOR_TASK_MEMORY_LIMIT":"big"}' }, "mem"),
      "INVALID_MEMORY_LIMIT",
      /must be a whole number, got "big"/,
    ],
    [
      "an unknown pool",
      withInput({ executorId: "nowhere" }, { id: "pool" }),
      "UNKNOWN_POOL",
      /pool "nowhere" \(from input.executorId\) does not exist; this executor serves: main/,
    ],
    [
      "a task type we do not run",
      withInput({ task: "RUN_ASSERTION" }, { id: "task" }),
      "UNSUPPORTED_TASK",
      /task "RUN_ASSERTION" is not run by this executor/,
    ],
    [
      "a body too large",
      withArgs({ recipe: `source: {type: file}\n#${"x".repeat(310_000)}` }, "large"),
      "BODY_TOO_LARGE",
      /the limit is 307200 bytes/,
    ],
  ];

  it("sends each kind of bad input to the DLQ with its own reason, records it, and runs the good records of the batch", async () => {
    const fx = await createFixture();
    const good = [runMessage({ id: "good-1" }), runMessage({ id: "good-2" })];
    const bodies = [good[0] as string, ...badBodies.map(([, body]) => body), good[1] as string];
    const ids = bodies.map((_, i) => `msg-${i}`);
    // SQS hands out at most 10 per batch; two batches, each mixing good and bad.
    const first = await fx.dispatch(bodies.slice(0, 7), ids.slice(0, 7));
    const second = await fx.dispatch(bodies.slice(7), ids.slice(7));
    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);

    const dead = await fx.drainDeadLetters();
    expect(dead).toHaveLength(badBodies.length);
    const bySource = new Map(dead.map((m) => [attribute(m, DEAD_LETTER_ATTRIBUTES.SOURCE_MESSAGE_ID), m]));
    badBodies.forEach(([name, body, code, reason], i) => {
      const message = bySource.get(`msg-${i + 1}`);
      expect(message, name).toBeDefined();
      expect(message?.Body, name).toBe(body);
      expect(attribute(message as Message, DEAD_LETTER_ATTRIBUTES.CODE), name).toBe(code);
      expect(attribute(message as Message, DEAD_LETTER_ATTRIBUTES.REASON), name).toMatch(reason);
    });
    const reasons = dead.map((m) => attribute(m, DEAD_LETTER_ATTRIBUTES.REASON));
    expect(new Set(reasons).size).toBe(badBodies.length);

    // A refused request with a usable URN is recorded as such, with the reason.
    const rejected = await fx.deps.runs.getRun(runIdFor("urn:li:dataHubExecutionRequest:pool"));
    expect(rejected?.state).toBe("REJECTED");
    expect(rejected?.outcomeReason).toMatch(/pool "nowhere"/);

    for (const id of ["good-1", "good-2"]) {
      expect((await fx.deps.runs.getRun(runIdFor(`urn:li:dataHubExecutionRequest:${id}`)))?.state).toBe("LAUNCHED");
    }
  });

  it("admits a refused request when it is sent again after the cause is fixed (DLQ redrive)", async () => {
    const fx = await createFixture();
    const body = withInput({ executorId: "later" }, { id: "redrive" });
    await fx.dispatch([body]);
    expect((await fx.deps.runs.getRun(runIdFor("urn:li:dataHubExecutionRequest:redrive")))?.state).toBe("REJECTED");
    await fx.deps.pools.create("later", { ...(await fx.deps.pools.get("main")), description: "" } as never);
    await fx.dispatch([body]);
    expect((await fx.deps.runs.getRun(runIdFor("urn:li:dataHubExecutionRequest:redrive")))?.state).toBe("LAUNCHED");
  });

  it("never lets a rejected duplicate overwrite a real run", async () => {
    const fx = await createFixture();
    await fx.dispatch([runMessage({ id: "real" })]);
    await fx.dispatch([withInput({ task: "NOPE" }, { id: "real" })]);
    const run = await fx.deps.runs.getRun(runIdFor("urn:li:dataHubExecutionRequest:real"));
    expect(run?.state).toBe("LAUNCHED");
    expect(await fx.drainDeadLetters()).toHaveLength(1);
  });
});

describe("fuzzing the dispatch handler", () => {
  it("never throws and accounts for every message: processed, or in the DLQ with a reason", {
    timeout: 600_000,
  }, async () => {
    // One worker: admitted runs mostly wait, since this test is about input and launches would only cost time.
    const fx: Fixture = await createFixture({ pools: { main: { ingestionMaxWorkers: 1 } } });
    // 600 through the handler against moto here; test/unit/fuzz-message.test.ts sends 10,000 more through the
    // pure parse and plan path.
    const runs = Number(process.env.FUZZ_RUNS ?? 600);
    const bodies = fc.sample(hostileBody(), { numRuns: runs, seed: 20261128 });
    const ids = bodies.map((_, i) => `fuzz-${i}`);
    for (let i = 0; i < bodies.length; i += 10) {
      const response = await fx.dispatch(bodies.slice(i, i + 10), ids.slice(i, i + 10));
      expect(response.batchItemFailures).toEqual([]);
    }
    const dead = await fx.drainDeadLetters();
    const deadIds = new Map(dead.map((m) => [attribute(m, DEAD_LETTER_ATTRIBUTES.SOURCE_MESSAGE_ID), m]));
    let processed = 0;
    for (const [i, body] of bodies.entries()) {
      const letter = deadIds.get(ids[i]);
      if (letter !== undefined) {
        expect(attribute(letter, DEAD_LETTER_ATTRIBUTES.REASON)?.length).toBeGreaterThan(0);
        expect(attribute(letter, DEAD_LETTER_ATTRIBUTES.CODE)).toMatch(/^[A-Z_]+$/);
        continue;
      }
      // Not in the DLQ: it must have been admitted as a run.
      const urn = (JSON.parse(body) as { executionRequestUrn: string }).executionRequestUrn;
      const run = await fx.deps.runs.getRun(runIdFor(urn));
      expect(run?.state, `message ${i} is neither admitted nor dead-lettered`).toMatch(
        /^(WAITING|LAUNCHING|LAUNCHED)$/,
      );
      processed++;
    }
    expect(processed + deadIds.size).toBe(runs);
    expect(deadIds.size).toBe(dead.length);
    // Some valid mutations are admitted, most bodies are refused: both paths ran.
    expect(processed).toBeGreaterThan(0);
    expect(deadIds.size).toBeGreaterThan(runs / 2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});
