import { describe, expect, it } from "vitest";
import { PoolAlreadyExistsError } from "../../functions/adapters/dynamodb/dynamodb-pool-store.js";
import { runCli, UsageError } from "../../functions/cli/dhx.js";
import { PoolNotFoundError } from "../../functions/core/errors.js";
import { PoolSettings } from "../../functions/core/pool.js";
import { createFixture, type Fixture, runMessage } from "../support/executor-fixture.js";

async function dhx(fx: Fixture, ...argv: string[]): Promise<string> {
  let text = "";
  await runCli(["--table", fx.stack.config.tableName, ...argv], {}, { write: (t) => (text += t) });
  return text;
}

describe("pools", () => {
  it("keeps exactly one default: the first pool created, until another is set", async () => {
    const fx = await createFixture({ pools: {} });
    expect(await fx.deps.pools.getDefault()).toBeUndefined();
    await fx.deps.pools.create("alpha", PoolSettings.parse({}));
    await fx.deps.pools.create("beta", PoolSettings.parse({ ingestionMaxWorkers: 2 }));
    const defaults = async () => (await fx.deps.pools.list()).filter((p) => p.isDefault).map((p) => p.id);
    expect(await defaults()).toEqual(["alpha"]);
    await fx.deps.pools.setDefault("beta");
    expect(await defaults()).toEqual(["beta"]);
    await expect(fx.deps.pools.setDefault("gamma")).rejects.toThrow(PoolNotFoundError);
    expect(await defaults()).toEqual(["beta"]);
    await expect(fx.deps.pools.create("alpha", PoolSettings.parse({}))).rejects.toThrow(PoolAlreadyExistsError);
  });

  it("routes a message without pool or executorId to the default pool, and refuses one when none is set", async () => {
    const fx = await createFixture({ pools: {} });
    const noPool = JSON.parse(runMessage({ id: "no-pool" }));
    delete noPool.input.executorId;
    await fx.dispatch([JSON.stringify(noPool)]);
    const [letter] = await fx.drainDeadLetters();
    expect(letter?.MessageAttributes?.["dhx-rejection-code"]?.StringValue).toBe("NO_DEFAULT_POOL");

    await fx.deps.pools.create("fallback", PoolSettings.parse({}));
    noPool.executionRequestUrn = "urn:li:dataHubExecutionRequest:no-pool-2";
    await fx.dispatch([JSON.stringify(noPool)]);
    const launched = (await fx.deps.runs.listActiveRuns("fallback")).map((r) => r.executionRequestUrn);
    expect(launched).toEqual(["urn:li:dataHubExecutionRequest:no-pool-2"]);
  });
});

describe("dhx", () => {
  it("creates, lists, updates and sets the default pool", async () => {
    const fx = await createFixture({ pools: {} });
    expect(await dhx(fx, "pools", "list")).toMatch(/no pools yet/);
    expect(
      await dhx(fx, "pools", "create", "etl", "--ingestion-max-workers", "2", "--description", "nightly ETL"),
    ).toMatch(/^pool +default +ingestion.*\netl +yes +2 +10 +4194304 +28800 s +2 +nightly ETL$/m);
    await dhx(fx, "pools", "create", "adhoc");
    await dhx(fx, "pools", "update", "adhoc", "--default-memory-limit-kib", "8388608");
    await dhx(fx, "pools", "set-default", "adhoc");
    const listed = JSON.parse(await dhx(fx, "--json", "pools", "list")) as {
      id: string;
      isDefault: boolean;
      defaultMemoryLimitKiB: number;
    }[];
    expect(listed.map((p) => [p.id, p.isDefault, p.defaultMemoryLimitKiB])).toEqual([
      ["adhoc", true, 8_388_608],
      ["etl", false, 4_194_304],
    ]);
  });

  it("shows a run and why it waits", async () => {
    const fx = await createFixture({ pools: { main: { ingestionMaxWorkers: 1 } } });
    // Two deliveries: records of one batch are handled concurrently, in no set order.
    await fx.dispatch([runMessage({ id: "first" })]);
    await fx.dispatch([runMessage({ id: "second" })]);
    const text = await dhx(fx, "runs", "show", "urn:li:dataHubExecutionRequest:second");
    expect(text).toMatch(/^state +WAITING$/m);
    expect(text).toMatch(
      /^waiting +first in the queue, waiting for weight to be released; pool "main" \(ingestion\) has 0 of 1 free; this run needs 1$/m,
    );
    const json = JSON.parse(await dhx(fx, "--json", "runs", "show", "urn:li:dataHubExecutionRequest:first"));
    expect(json.run.state).toBe("LAUNCHED");
  });

  it.each<[string[], RegExp]>([
    [["pools", "create"], /pools create needs a pool id/],
    [["pools", "create", "bad id!"], /needs a pool id .* got bad id!/],
    [
      ["pools", "create", "x", "--ingestion-max-workers", "many"],
      /--ingestion-max-workers must be a whole number, got many/,
    ],
    [["pools", "create", "x", "--ingestion-max-workers", "0"], /bad setting ingestionMaxWorkers/],
    [["runs", "show"], /runs show needs an execution request URN or a run id/],
    [["runs", "show", "urn:li:dataHubExecutionRequest:nope"], /no run urn:li:dataHubExecutionRequest:nope in table/],
    [["frobnicate"], /unknown command: frobnicate/],
  ])("refuses %j with a clear error", async (argv, message) => {
    const fx = await createFixture({ pools: {} });
    await expect(dhx(fx, ...argv)).rejects.toThrow(UsageError);
    await expect(dhx(fx, ...argv)).rejects.toThrow(message);
  });

  it("names the missing target", async () => {
    await expect(
      runCli(["pools", "list"], { DHX_LOCAL_DIR: "/nonexistent/dhx-local" }, { write: () => {} }),
    ).rejects.toThrow(/local mode is not running .*or pass --stage STAGE, or --table NAME/);
  });

  it("names a pool that does not exist", async () => {
    const fx = await createFixture({ pools: {} });
    await expect(dhx(fx, "pools", "update", "ghost", "--max-attempts", "3")).rejects.toThrow(
      /pool "ghost" does not exist/,
    );
  });
});
