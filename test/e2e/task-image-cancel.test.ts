import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterEach, describe, expect, it } from "vitest";
import { SecretsManagerSecretReader } from "../../functions/adapters/secrets-manager/secrets-manager-secret-reader.js";
import { CancelSignal } from "../../task-image/src/cancel-signal.js";
import { runTask } from "../../task-image/src/run-task.js";
import { loadTaskConfig } from "../../task-image/src/task-config.js";
import { createFixture } from "../support/executor-fixture.js";
import {
  childrenOf,
  dispatchRun,
  FIXTURES,
  fixtureRecipe,
  isAlive,
  livingProcessesInGroup,
  readReport,
  startStubGms,
  startTask,
  taskEnvironment,
  waitFor,
} from "./task-image-harness.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("SIGTERM (ECS StopTask) during a run", () => {
  it("stops a real ingestion's whole process group, reports CANCELLED and leaves no process behind", async () => {
    const fx = await createFixture();
    // The stub never answers proposals: the ingestion stays in flight until it is stopped.
    const gms = await startStubGms({ holdProposals: true });
    cleanups.push(() => gms.close());
    const run = await dispatchRun(fx, { recipe: fixtureRecipe("file-to-rest.yml", { __GMS__: gms.url }) });
    const task = await startTask(taskEnvironment(fx, run, { DHX_CANCEL_GRACE_SECONDS: "20" }));
    const taskPid = task.child.pid ?? 0;

    await waitFor("the CLI to send its first proposals", () =>
      gms.requests.some((r) => r.url.startsWith("/aspects?action=ingestProposal")) ? true : undefined,
    );
    const [cli] = childrenOf(taskPid);
    expect(cli).toBeDefined();
    const pgid = cli?.pgrp ?? 0;
    // Its own group, not the entrypoint's: a signal to the group reaches the CLI and nothing else.
    expect(pgid).toBe(cli?.pid);
    expect(livingProcessesInGroup(pgid).length).toBeGreaterThan(0);

    task.child.kill("SIGTERM");
    const { code } = await task.exited;

    expect(code).toBe(4);
    expect(livingProcessesInGroup(pgid)).toEqual([]);
    const report = await readReport(fx, run);
    expect(report).toMatchObject({ outcome: "CANCELLED", exitCode: 4 });
    expect(report?.message).toMatch(
      /^cancelled: the task was asked to stop \(SIGTERM\) while the ingestion ran; its process group stopped/,
    );
  });

  it("kills a group that ignores SIGTERM after the grace period, children included", async () => {
    const fx = await createFixture();
    const pidFile = join(mkdtempSync(join(tmpdir(), "dhx-pids-")), "pids");
    const run = await dispatchRun(fx, {
      recipe: fixtureRecipe("file-to-file.yml", { __OUT__: "/tmp" }),
      extraEnv: { FAKE_PID_FILE: pidFile },
    });
    const task = await startTask(
      taskEnvironment(fx, run, {
        DHX_DATAHUB_CLI: join(FIXTURES, "fake-datahub-ignore-sigterm.py"),
        DHX_CANCEL_GRACE_SECONDS: "2",
      }),
    );
    const [cliPid, grandchildPid] = await waitFor("the fake CLI and its child to start", () =>
      existsSync(pidFile) ? readFileSync(pidFile, "utf8").split(" ").map(Number) : undefined,
    );
    expect(isAlive(grandchildPid ?? 0)).toBe(true);

    task.child.kill("SIGTERM");
    const { code } = await task.exited;

    expect(code).toBe(4);
    expect(livingProcessesInGroup(cliPid ?? 0)).toEqual([]);
    expect(isAlive(cliPid ?? 0)).toBe(false);
    expect(isAlive(grandchildPid ?? 0)).toBe(false);
    expect((await readReport(fx, run))?.message).toBe(
      "cancelled: the task was asked to stop (SIGTERM) while the ingestion ran; it did not stop within the " +
        "2 s grace period and its process group was killed",
    );
  });

  it("ends as CANCELLED without starting the CLI when SIGTERM came first", async () => {
    const fx = await createFixture();
    const run = await dispatchRun(fx, { recipe: fixtureRecipe("file-to-file.yml", { __OUT__: "/tmp" }) });
    // A CLI that would fail loudly if it were started.
    const env = taskEnvironment(fx, run, { DHX_DATAHUB_CLI: "/nonexistent/bin/datahub" });
    const config = loadTaskConfig(env);
    const cancel = new CancelSignal();
    cancel.request();
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });

    const code = await runTask({
      config,
      doc: fx.doc,
      secretsManager: new SecretsManagerSecretReader(fx.clients.secrets, config.secretPrefix),
      environment: env,
      stdout: sink,
      stderr: sink,
      logger: new Logger({ serviceName: "test" }),
      cancel,
      now: Date.now,
    });

    expect(code).toBe(4);
    expect(await readReport(fx, run)).toMatchObject({
      outcome: "CANCELLED",
      message: "cancelled: the task was asked to stop (SIGTERM) before the ingestion started",
    });
  });
});
