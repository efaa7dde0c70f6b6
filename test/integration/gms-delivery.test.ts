import { describe, expect, it } from "vitest";
import { DELIVERY_LEASE_MS } from "../../functions/app/deliver-statuses.js";
import type { ExecutorDeps } from "../../functions/app/executor-deps.js";
import { reconcilePools } from "../../functions/app/reconcile-pools.js";
import { runIdFor } from "../../functions/core/plan-run.js";
import { createTaskStateChangeHandler } from "../../functions/handlers/task-state-change.js";
import {
  crashingAfterFinish,
  createFixture,
  type Fixture,
  InjectedCrash,
  runMessage,
} from "../support/executor-fixture.js";

const urn = (id: string) => `urn:li:dataHubExecutionRequest:${id}`;
const runId = (id: string) => runIdFor(urn(id));

function writes(fx: Fixture, id: string): string[] {
  expect(fx.gms.violations).toEqual([]);
  return fx.gms.resultWrites(urn(id));
}

describe("statuses reach DataHub in order and once", () => {
  it("keeps every status while GMS is down for the whole run, then delivers RUNNING and SUCCESS once each", async () => {
    const fx = await createFixture();
    const onEvent = createTaskStateChangeHandler(fx.deps);
    fx.gms.setDown(true);
    await fx.dispatch([runMessage({ id: "offline" })]);
    await onEvent(await fx.runningEvent(runId("offline")));
    await onEvent(await fx.stoppedEvent(runId("offline")));
    expect((await fx.deps.runs.getRun(runId("offline")))?.state).toBe("SUCCESS");
    expect((await fx.deps.outbox.listPending()).map((e) => e.status)).toEqual(["RUNNING", "SUCCESS"]);
    expect((await reconcilePools(fx.deps)).outbox).toEqual({ runs: 1, pendingAfter: 2, unavailable: true });

    fx.gms.setDown(false);
    expect((await reconcilePools(fx.deps)).outbox).toEqual({ runs: 1, pendingAfter: 0, unavailable: false });
    await reconcilePools(fx.deps);
    expect(writes(fx, "offline")).toEqual(["RUNNING", "SUCCESS"]);
  });

  it("records a status GMS refuses for good and does not retry it forever", async () => {
    const fx = await createFixture();
    fx.gms.requireToken("a-token-we-do-not-have");
    await fx.dispatch([runMessage({ id: "refused" })]);
    await createTaskStateChangeHandler(fx.deps)(await fx.stoppedEvent(runId("refused")));
    const run = await fx.deps.runs.getRun(runId("refused"));
    expect(run?.gmsError).toMatch(/401/);
    expect(run?.history.at(-1)?.reason).toMatch(/^DataHub refused the SUCCESS status: .*401/);
    expect(await fx.deps.outbox.listPending()).toEqual([]);
    const before = fx.gms.requests.length;
    await reconcilePools(fx.deps);
    const resultCalls = fx.gms.requests
      .slice(before)
      .filter(
        (r) => r.path.includes("ingestProposal") && JSON.stringify(r.body).includes("dataHubExecutionRequestResult"),
      );
    expect(resultCalls).toEqual([]);
  });

  describe("a crash at each step of completion", () => {
    async function setup(clock: () => number) {
      const fx = await createFixture({ pools: { main: { ingestionMaxWorkers: 1 } }, clock });
      await fx.dispatch([runMessage({ id: "ending" })]);
      await fx.dispatch([runMessage({ id: "next" })]);
      await createTaskStateChangeHandler(fx.deps)(await fx.runningEvent(runId("ending")));
      return fx;
    }

    async function expectSettled(fx: Fixture) {
      expect((await fx.deps.runs.getRun(runId("ending")))?.state).toBe("SUCCESS");
      expect(writes(fx, "ending")).toEqual(["RUNNING", "SUCCESS"]);
      // Launched by the release; a reconcile pass also sees its task running in ECS.
      expect((await fx.deps.runs.getRun(runId("next")))?.state).toMatch(/^(LAUNCHED|RUNNING)$/);
      expect(await fx.deps.runs.readCapacity("main", "INGESTION")).toEqual({ usedMicro: 1_000_000, holders: 1 });
      expect((await fx.deps.outbox.listPending()).filter((e) => e.runId === runId("ending"))).toEqual([]);
    }

    it("after the release: the redelivered event finishes the job without a second release", async () => {
      const fx = await setup(Date.now);
      const stopped = await fx.stoppedEvent(runId("ending"));
      const crashing = crashingAfterFinish(fx.deps);
      await expect(createTaskStateChangeHandler(crashing)(stopped)).rejects.toThrow(InjectedCrash);
      expect(await fx.deps.runs.readCapacity("main", "INGESTION")).toEqual({ usedMicro: 0, holders: 0 });
      await createTaskStateChangeHandler(fx.deps)(stopped); // EventBridge retries the event
      await expectSettled(fx);
    });

    it("before the GMS write: the retry writes the terminal status once", async () => {
      const fx = await setup(Date.now);
      const stopped = await fx.stoppedEvent(runId("ending"));
      const crashing: ExecutorDeps = {
        ...fx.deps,
        status: {
          ...bindAll(fx.deps.status),
          writeExecutionResult: async () => {
            throw new InjectedCrash("died before the GMS write");
          },
        },
      };
      await expect(createTaskStateChangeHandler(crashing)(stopped)).rejects.toThrow(InjectedCrash);
      expect(writes(fx, "ending")).toEqual(["RUNNING"]);
      await reconcilePools(fx.deps);
      await expectSettled(fx);
    });

    it("after the GMS write, before our record of it: the terminal status is not written again", async () => {
      let now = 1_764_300_000_000;
      const fx = await setup(() => now);
      const stopped = await fx.stoppedEvent(runId("ending"));
      const real = fx.deps.status;
      const outbox = fx.deps.outbox;
      const crashing: ExecutorDeps = {
        ...fx.deps,
        status: {
          ...bindAll(real),
          writeExecutionResult: async (u, value) => {
            await real.writeExecutionResult(u, value);
            throw new InjectedCrash("died after GMS answered");
          },
        },
        // A dead process keeps its lease until it expires.
        outbox: Object.assign(Object.create(outbox), { releaseLease: async () => {} }),
      };
      await expect(createTaskStateChangeHandler(crashing)(stopped)).rejects.toThrow(InjectedCrash);
      expect(writes(fx, "ending")).toEqual(["RUNNING", "SUCCESS"]);
      expect((await fx.deps.outbox.listPending()).map((e) => e.status)).toEqual(["SUCCESS"]);

      await reconcilePools(fx.deps); // lease still held: nothing is sent
      expect(writes(fx, "ending")).toEqual(["RUNNING", "SUCCESS"]);
      now += DELIVERY_LEASE_MS + 1;
      await reconcilePools(fx.deps);
      expect(fx.gms.refusals).toEqual([]);
      await expectSettled(fx);
    });
  });
});

/** A plain object with the methods of a class instance, so one can be replaced. */
function bindAll<T extends object>(target: T): T {
  const proto = Object.getPrototypeOf(target) as object;
  const out: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(proto)) {
    const value = (target as Record<string, unknown>)[key];
    if (key !== "constructor" && typeof value === "function") out[key] = value.bind(target);
  }
  return out as T;
}
