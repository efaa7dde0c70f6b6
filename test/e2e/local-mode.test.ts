import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunDetail, StatusSnapshot } from "../../functions/cli/commands/status-command.js";
import { runCli } from "../../functions/cli/dhx.js";
import { type LocalMode, SAMPLE_RECIPE, startLocalMode } from "../../functions/local/local-mode.js";
import { childrenOf, FIXTURES, isAlive, livingProcessesInGroup, startStubGms, waitFor } from "./task-image-harness.js";

/**
 * Local mode as a newcomer runs it: its own moto, the handlers in this process, the real task entrypoint and the
 * real datahub CLI per run. Everything is observed through dhx's --json output, as a script would.
 */
let local: LocalMode;
let env: Record<string, string>;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "dhx-local-e2e-"));
  env = { DHX_LOCAL_DIR: dir };
  local = await startLocalMode({
    dir,
    config: {
      stage: "e2e",
      pools: [{ id: "e2e", ingestionMaxWorkers: 4 }],
      reconcileIntervalSeconds: 2,
      intakePollIntervalSeconds: 10,
      intakeLookbackMinutes: 10,
      secrets: {},
    },
    logger: new Logger({ serviceName: "local-mode-e2e", logLevel: "WARN" }),
  });
});

afterAll(async () => {
  await local?.stop();
});

async function dhx(...argv: string[]): Promise<string> {
  let text = "";
  await runCli(argv, env, { write: (t) => (text += t) });
  return text;
}

async function dhxJson<T>(...argv: string[]): Promise<T> {
  return JSON.parse(await dhx("--json", ...argv)) as T;
}

/** Polls (not a pass/fail timing) until the probe answers. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("local mode", () => {
  it("runs six sample runs of mixed weights within the pool's budget, each to SUCCESS with the CLI's report", async () => {
    // Mixed weights adding up to 2: the budget is used in full and some runs must wait for it.
    const weights = ["0.5", "0.25", "0.25", "0.25", "0.5", "0.25"];
    const runIds: string[] = [];
    for (const weight of weights) {
      const submitted = await dhxJson<{ runId: string }>("submit", SAMPLE_RECIPE, "--pool", "e2e", "--weight", weight);
      runIds.push(submitted.runId);
    }
    await until("the six runs to be admitted", async () => {
      const status = await dhxJson<StatusSnapshot>("status");
      return status.runs.length === weights.length ? true : undefined;
    });

    let frames = "";
    await runCli(["--json", "watch", "--until-idle", "--interval", "0.3"], env, { write: (t) => (frames += t) });
    const snapshots = frames
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as StatusSnapshot);
    expect(snapshots.length).toBeGreaterThan(3);
    let mostHolders = 0;
    let sawWaiting = false;
    for (const snapshot of snapshots) {
      // The pool's weight counter is one item, read whole: the budget as the executor enforces it, at each poll.
      const pool = snapshot.pools.find((p) => p.id === "e2e");
      expect(pool?.usedMicro).toBeGreaterThanOrEqual(0);
      expect(pool?.usedMicro).toBeLessThanOrEqual(1_000_000);
      mostHolders = Math.max(mostHolders, pool?.holders ?? 0);
      sawWaiting ||= snapshot.runs.some((r) => r.state === "WAITING" && r.waitReason !== undefined);
    }
    // The budget was used, not just respected by running one at a time, and a run had to wait for it.
    expect(mostHolders).toBeGreaterThan(1);
    expect(sawWaiting).toBe(true);

    // The runs themselves (a Scan is no snapshot, so from each run's history): the weights held at every moment
    // a run acquired its weight add up to at most 1.
    const details = await Promise.all(runIds.map((id) => dhxJson<RunDetail>("status", id)));
    const held = details.map(({ run }) => ({
      weightMicro: run.weightMicro,
      from: run.history.find((h) => h.state === "LAUNCHING")?.atMs ?? Number.NaN,
      to: run.history.find((h) => h.state === "SUCCESS")?.atMs ?? Number.NaN,
    }));
    for (const start of held) {
      const overlapping = held.filter((h) => h.from <= start.from && start.from < h.to);
      expect(overlapping.reduce((sum, h) => sum + h.weightMicro, 0)).toBeLessThanOrEqual(1_000_000);
    }

    for (const runId of runIds) {
      const detail = await until("the run's final status", async () => {
        const d = await dhxJson<RunDetail>("status", runId);
        return d.delivered?.some((s) => s.status !== "RUNNING") === true ? d : undefined;
      });
      expect(detail.run.state).toBe("SUCCESS");
      const final = detail.delivered?.at(-1);
      expect(final?.status).toBe("SUCCESS");
      // The real CLI's --report-to JSON, as DataHub receives it in the terminal status.
      expect(final?.structuredReport).toMatchObject({
        source: { type: "file", report: { events_produced: 3 } },
        sink: { type: "console" },
      });
    }
    const log = await dhx("logs", runIds[0] ?? "");
    expect(log).toContain("urn:li:dataset:(urn:li:dataPlatform:hive,fixture.orders,PROD)");
  });

  it("cancels a long run mid-way: CANCELLED, and no process of it is left", async () => {
    // A GMS that never answers proposals keeps the real CLI in the middle of its ingestion.
    const gms = await startStubGms({ holdProposals: true });
    try {
      const recipe = join(mkdtempSync(join(tmpdir(), "dhx-long-")), "long.yml");
      writeFileSync(
        recipe,
        [
          "source:",
          "  type: file",
          "  config:",
          `    path: ${join(FIXTURES, "metadata.json")}`,
          "sink:",
          "  type: datahub-rest",
          "  config:",
          `    server: ${gms.url}`,
        ].join("\n"),
      );
      const { runId } = await dhxJson<{ runId: string }>("submit", recipe, "--pool", "e2e");
      await until("the CLI to send its first proposal", async () =>
        gms.requests.some((r) => r.url.startsWith("/aspects?action=ingestProposal")) ? true : undefined,
      );
      expect((await dhxJson<RunDetail>("status", runId)).run.state).toBe("RUNNING");
      const task = local.launcher.processes().find((p) => p.runId === runId && p.lastStatus === "RUNNING");
      const entrypointPid = task?.pid ?? 0;
      const [cli] = await waitFor("the datahub CLI under the entrypoint", () => {
        const children = childrenOf(entrypointPid);
        return children.length > 0 ? children : undefined;
      });
      const cliGroup = cli?.pgrp ?? 0;
      expect(livingProcessesInGroup(cliGroup).length).toBeGreaterThan(0);

      expect(await dhxJson<{ kind: string }>("cancel", runId)).toMatchObject({ kind: "sent" });
      // Ended, and its final status written where DataHub would read it (the outbox delivers just after).
      const detail = await until("the run's final status", async () => {
        const d = await dhxJson<RunDetail>("status", runId);
        return d.delivered?.some((s) => s.status !== "RUNNING") === true ? d : undefined;
      });

      expect(detail.run.state).toBe("CANCELLED");
      expect(detail.delivered?.at(-1)?.status).toBe("CANCELLED");
      expect(isAlive(entrypointPid)).toBe(false);
      expect(livingProcessesInGroup(cliGroup)).toEqual([]);
      // Cancelling it again says it has ended, and sends nothing.
      expect(await dhxJson<{ kind: string }>("cancel", runId)).toMatchObject({ kind: "already-finished" });
    } finally {
      await gms.close();
    }
  });
});
