import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateLogStreamCommand, PutLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../functions/cli/cli-output.js";
import type { DeadLetter } from "../../functions/cli/commands/dlq-command.js";
import type { RunDetail, StatusSnapshot } from "../../functions/cli/commands/status-command.js";
import { runCli } from "../../functions/cli/dhx.js";
import { ConfigError } from "../../functions/core/errors.js";
import { runIdFor } from "../../functions/core/plan-run.js";
import { type LocalModeState, writeLocalModeState } from "../../functions/local/local-mode-state.js";
import { localLogPath } from "../../functions/local/local-task-launcher.js";
import { createFixture, type Fixture, GMS_TOKEN, runMessage } from "../support/executor-fixture.js";

/**
 * Every dhx command against the fixture's moto, as against a running local mode: the state file local mode
 * writes, pointing at this moto and the fixture's stack.
 */
async function localCli(fx: Fixture, options: { pid?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "dhx-cli-"));
  const logDir = join(dir, "logs");
  mkdirSync(logDir);
  const state: LocalModeState = {
    pid: options.pid ?? process.pid,
    startedAt: new Date().toISOString(),
    stage: fx.stack.config.stage,
    endpoint: fx.endpoint,
    region: "us-east-1",
    tableName: fx.stack.config.tableName,
    intakeQueueUrl: fx.stack.intakeQueueUrl,
    deadLetterQueueUrl: fx.stack.config.deadLetterQueueUrl,
    clusterArn: fx.stack.config.launch.cluster,
    statusLogPath: join(dir, "status-log.jsonl"),
    logDir,
  };
  writeLocalModeState(dir, state);
  const env = { DHX_LOCAL_DIR: dir };
  const dhx = async (...argv: string[]) => {
    let text = "";
    await runCli(argv, env, { write: (t) => (text += t) });
    return text;
  };
  return {
    dir,
    state,
    env,
    dhx,
    json: async <T>(...argv: string[]) => JSON.parse(await dhx("--json", ...argv)) as T,
    /** What the intake queue holds now (dispatch is not running here). */
    async takeIntake(): Promise<string[]> {
      const { Messages = [] } = await fx.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: fx.stack.intakeQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      return Messages.map((m) => m.Body ?? "");
    },
  };
}

function recipeFile(text = "source:\n  type: file\n  config:\n    path: /tmp/x.json\n"): string {
  const path = join(mkdtempSync(join(tmpdir(), "dhx-recipe-")), "recipe.yml");
  writeFileSync(path, text);
  return path;
}

describe("dhx submit", () => {
  it("sends the v1 message DataHub would, with pool, weight, memory and priority, and the run is admitted so", async () => {
    const fx = await createFixture({ pools: { main: {}, etl: {} } });
    const cli = await localCli(fx);
    const recipe = recipeFile();
    const submitted = await cli.json<{ executionRequestUrn: string; runId: string }>(
      "submit",
      recipe,
      "--pool",
      "etl",
      "--weight",
      "0.5",
      "--memory",
      "2GiB",
      "--priority",
      "5",
    );
    expect(submitted.runId).toBe(runIdFor(submitted.executionRequestUrn));
    const [body] = await cli.takeIntake();
    const message = JSON.parse(body ?? "{}");
    expect(message).toMatchObject({ version: 1, pool: "etl", priority: 5 });
    expect(message.input.args.recipe).toContain("type: file");
    expect(JSON.parse(message.input.args.extra_env_vars)).toEqual({
      EXECUTOR_TASK_WEIGHT: "0.5",
      EXECUTOR_TASK_MEMORY_LIMIT: "2097152",
    });

    await fx.dispatch([body ?? ""]);
    const run = await fx.deps.runs.getRun(submitted.runId);
    expect(run).toMatchObject({ poolId: "etl", weightMicro: 500_000, memoryLimitKiB: 2_097_152, state: "LAUNCHED" });
    expect(await cli.dhx("submit", recipe)).toMatch(/^submitted .*recipe\.yml as run [0-9a-f]{24}$/m);
  });

  it.each<[string[], RegExp]>([
    [["submit"], /submit needs a recipe file/],
    [["submit", "/nonexistent/recipe.yml"], /no recipe file \/nonexistent\/recipe\.yml/],
    [["submit", "RECIPE", "--weight", "1.5"], /--weight: must be at most 1, got "1.5"/],
    [["submit", "RECIPE", "--weight", "0"], /--weight: must be greater than 0/],
    [["submit", "RECIPE", "--memory", "lots"], /--memory must be KiB .* got lots/],
    [["submit", "RECIPE", "--priority", "high"], /--priority must be a whole number from -1000 to 1000, got high/],
    [["submit", "RECIPE", "--pool", "bad id!"], /--pool: "bad id!" is not a pool id/],
    [["submit", "RECIPE", "--task", "MONITOR"], /--task must be RUN_INGEST or TEST_CONNECTION/],
    [["submit", "RECIPE", "other.yml"], /submit takes one recipe file/],
    [["submit", "RECIPE", "--frobnicate"], /Unknown option '--frobnicate'/],
  ])("refuses %j and sends nothing", async (argv, message) => {
    const fx = await createFixture();
    const cli = await localCli(fx);
    const recipe = recipeFile();
    const args = argv.map((a) => (a === "RECIPE" ? recipe : a));
    await expect(cli.dhx(...args)).rejects.toThrow(UsageError);
    await expect(cli.dhx(...args)).rejects.toThrow(message);
    expect(await cli.takeIntake()).toEqual([]);
  });
});

describe("dhx submit --source", () => {
  const SOURCE = "urn:li:dataHubIngestionSource:nightly-file";

  it("asks GMS to run the ingestion source now, as DataHub's UI does, and names the request it created", async () => {
    const fx = await createFixture();
    const cli = await localCli(fx);
    fx.gms.putIngestionSource(SOURCE, { recipe: { source: { type: "file" } }, executorId: "main" });
    let text = "";
    const env = { ...cli.env, DATAHUB_GMS_URL: fx.gms.url, DATAHUB_GMS_TOKEN: GMS_TOKEN };
    await runCli(["--json", "submit", "--source", SOURCE], env, { write: (t) => (text += t) });
    const submitted = JSON.parse(text) as { executionRequestUrn: string; runId: string };
    expect(submitted.executionRequestUrn).toMatch(/^urn:li:dataHubExecutionRequest:[0-9a-f-]{36}$/);
    expect(submitted.runId).toBe(runIdFor(submitted.executionRequestUrn));
    expect(fx.gms.requests.filter((r) => r.path.startsWith("/api/graphql"))).toHaveLength(1);
    // Nothing goes on the intake queue directly: the intake polls GMS for it.
    expect(await cli.takeIntake()).toEqual([]);
  });

  it.each<[string[], Record<string, string>, RegExp]>([
    [["submit", "--source", SOURCE], {}, /submit --source needs a GMS: set DATAHUB_GMS_URL and DATAHUB_GMS_TOKEN/],
    [["submit", "--source", SOURCE], { DATAHUB_GMS_URL: "GMS" }, /DATAHUB_GMS_TOKEN is not set/],
    [
      ["submit", "--source", "urn:li:corpuser:x"],
      { DATAHUB_GMS_URL: "GMS", DATAHUB_GMS_TOKEN: GMS_TOKEN },
      /is not an ingestion source URN/,
    ],
    [
      ["submit", "--source", SOURCE],
      { DATAHUB_GMS_URL: "ftp://gms", DATAHUB_GMS_TOKEN: GMS_TOKEN },
      /GMS URL ftp:\/\/gms: /,
    ],
    [
      ["submit", "--source", SOURCE],
      { DATAHUB_GMS_URL: "GMS", DATAHUB_GMS_TOKEN: GMS_TOKEN },
      /Failed to find ingestion source with urn urn:li:dataHubIngestionSource:nightly-file/,
    ],
    [["submit", "recipe.yml", "--source", SOURCE], {}, /submit takes a recipe file or --source, not both/],
  ])("refuses %j (%j)", async (argv, extra, message) => {
    const fx = await createFixture();
    const cli = await localCli(fx);
    const env = {
      ...cli.env,
      ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, v === "GMS" ? fx.gms.url : v])),
    };
    await expect(runCli(argv, env, { write: () => {} })).rejects.toThrow(message);
    expect(await cli.takeIntake()).toEqual([]);
  });
});

describe("dhx status and watch", () => {
  it("lists runs and pools with weight, size, waited, ran and why a run waits; shows one run by id prefix", async () => {
    const fx = await createFixture({ pools: { main: { ingestionMaxWorkers: 1 } } });
    const cli = await localCli(fx);
    await fx.dispatch([runMessage({ id: "first" })]);
    await fx.dispatch([runMessage({ id: "second" })]);
    const firstId = runIdFor("urn:li:dataHubExecutionRequest:first");
    const secondId = runIdFor("urn:li:dataHubExecutionRequest:second");

    const text = await cli.dhx("status");
    expect(text).toMatch(/^pool main \(default\): 1 of 1 in use by 1 run$/m);
    expect(text).toMatch(/^run +pool +state +weight +fargate +waited +ran +outcome \/ why it waits$/m);
    expect(text).toContain(`${secondId.slice(0, 12)}  main  WAITING`);
    expect(text).toMatch(/WAITING .*first in the queue, waiting for weight to be released/);
    expect(text).toMatch(new RegExp(`${firstId.slice(0, 12)} +main +LAUNCHED +1 +0\\.5 vCPU/4096 MiB`));

    const snapshot = await cli.json<StatusSnapshot>("status");
    expect(snapshot.pools).toEqual([
      { id: "main", isDefault: true, usedMicro: 1_000_000, holders: 1, ingestionMaxWorkers: 1 },
    ]);
    expect(snapshot.runs.map((r) => [r.runId, r.state, r.weightMicro])).toEqual([
      [secondId, "WAITING", 1_000_000],
      [firstId, "LAUNCHED", 1_000_000],
    ]);

    const detail = await cli.json<RunDetail>("status", secondId.slice(0, 8));
    expect(detail.run.runId).toBe(secondId);
    expect(detail.wait?.cause).toBe("no-room");
    expect(detail.delivered).toEqual([]);
    expect(await cli.dhx("status", "urn:li:dataHubExecutionRequest:first")).toMatch(/^state +LAUNCHED$/m);
  });

  it.each<[string[], RegExp]>([
    [["status", "urn:li:dataHubExecutionRequest:ghost"], /no run urn:li:dataHubExecutionRequest:ghost in local mode/],
    [["status", "abcdef"], /no run abcdef in local mode/],
    [["status", "not-a-run"], /no run not-a-run in local mode/],
    [["watch", "--interval", "0"], /--interval must be seconds from 0\.1 to 3600, got 0/],
    [["watch", "--interval", "soon"], /--interval must be seconds/],
  ])("refuses %j", async (argv, message) => {
    const fx = await createFixture();
    const cli = await localCli(fx);
    await expect(cli.dhx(...argv)).rejects.toThrow(message);
  });

  it("watch --until-idle --json gives one JSON frame per poll and returns once no run is waiting or going", async () => {
    const fx = await createFixture();
    const cli = await localCli(fx);
    // A refused message: a run that ended before it began.
    await fx.dispatch([runMessage({ id: "refused", extraEnv: { EXECUTOR_TASK_WEIGHT: "2" } })]);
    const frames = (await cli.dhx("--json", "watch", "--until-idle", "--interval", "0.1")).trim().split("\n");
    expect(frames).toHaveLength(1);
    const frame = JSON.parse(frames[0] ?? "") as StatusSnapshot;
    expect(frame.runs.map((r) => r.state)).toEqual(["REJECTED"]);
    expect(frame.runs[0]?.outcome).toMatch(/EXECUTOR_TASK_WEIGHT/);
  });

  it("watch stops at its signal (Ctrl-C) while runs are still going, and draws text frames", async () => {
    const fx = await createFixture();
    const cli = await localCli(fx);
    await fx.dispatch([runMessage({ id: "going" })]);
    const controller = new AbortController();
    let text = "";
    const watching = runCli(
      ["watch", "--interval", "0.1"],
      cli.env,
      {
        write: (t) => {
          text += t;
          if ((text.match(/local mode\n/g) ?? []).length === 2) controller.abort();
        },
      },
      { signal: controller.signal },
    );
    await watching;
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT.*Z {2}local mode\npool main \(default\): 0\.25 of 1 in use by 1 run$/m);
    expect(text).toMatch(/LAUNCHED/);
  });
});

describe("dhx cancel", () => {
  it("sends a cancel message for a run that has not ended, and says so for one that has", async () => {
    const fx = await createFixture({ pools: { main: { ingestionMaxWorkers: 1 } } });
    const cli = await localCli(fx);
    await fx.dispatch([runMessage({ id: "busy" })]);
    await fx.dispatch([runMessage({ id: "queued" })]);
    const runId = runIdFor("urn:li:dataHubExecutionRequest:queued");
    expect(await cli.dhx("cancel", runId, "--reason", "not today")).toMatch(
      new RegExp(`^cancel sent for run ${runId} \\(it was WAITING\\)`),
    );
    const [body] = await cli.takeIntake();
    expect(JSON.parse(body ?? "{}")).toEqual({
      version: 1,
      kind: "cancel",
      executionRequestUrn: "urn:li:dataHubExecutionRequest:queued",
      reason: "not today",
    });
    await fx.dispatch([body ?? ""]);
    expect((await fx.deps.runs.getRun(runId))?.state).toBe("CANCELLED");
    expect(await cli.json("cancel", runId)).toMatchObject({ kind: "already-finished", state: "CANCELLED" });
    expect(await cli.takeIntake()).toEqual([]);
  });

  it.each<[string[], RegExp]>([
    [["cancel"], /cancel needs a run/],
    [["cancel", "urn:li:dataHubExecutionRequest:ghost"], /no run urn:li:dataHubExecutionRequest:ghost in local mode/],
  ])("refuses %j", async (argv, message) => {
    const fx = await createFixture();
    const cli = await localCli(fx);
    await expect(cli.dhx(...argv)).rejects.toThrow(message);
    expect(await cli.takeIntake()).toEqual([]);
  });
});

describe("dhx logs", () => {
  it("prints local mode's log of the run's last attempt, and a stage's CloudWatch stream", async () => {
    const fx = await createFixture();
    const cli = await localCli(fx);
    await fx.dispatch([runMessage({ id: "logged" })]);
    const runId = runIdFor("urn:li:dataHubExecutionRequest:logged");
    writeFileSync(localLogPath(cli.state.logDir, runId, 1), "starting\nPipeline finished successfully\n");
    expect(await cli.dhx("logs", runId)).toBe("starting\nPipeline finished successfully\n");
    expect(await cli.json("logs", runId)).toMatchObject({ attempt: 1, text: expect.stringContaining("starting") });

    // The same run read as a deployed stage would be: the task's awslogs stream run/ingestion/<task id>.
    const run = await fx.deps.runs.getRun(runId);
    const taskId = run?.taskArn?.split("/").at(-1) ?? "";
    const logGroupName = fx.stack.config.runLogs.logGroup;
    await fx.clients.logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName: `run/ingestion/${taskId}` }));
    await fx.clients.logs.send(
      new PutLogEventsCommand({
        logGroupName,
        logStreamName: `run/ingestion/${taskId}`,
        logEvents: [
          { timestamp: Date.now(), message: "from cloudwatch 1" },
          { timestamp: Date.now(), message: "from cloudwatch 2" },
        ],
      }),
    );
    let text = "";
    await runCli(["--table", fx.stack.config.tableName, "logs", runId], {}, { write: (t) => (text += t) });
    expect(text).toBe("from cloudwatch 1\nfrom cloudwatch 2\n");
  });

  it("explains a run with no log: not launched yet, no such attempt, no file, no stream", async () => {
    const fx = await createFixture({ pools: { main: { ingestionMaxWorkers: 1 } } });
    const cli = await localCli(fx);
    await fx.dispatch([runMessage({ id: "running" })]);
    await fx.dispatch([runMessage({ id: "waiting" })]);
    const running = runIdFor("urn:li:dataHubExecutionRequest:running");
    const waiting = runIdFor("urn:li:dataHubExecutionRequest:waiting");
    await expect(cli.dhx("logs", waiting)).rejects.toThrow(/has not been launched yet \(it is WAITING\)/);
    await expect(cli.dhx("logs", running, "--attempt", "2")).rejects.toThrow(/has attempts 1 to 1, not 2/);
    await expect(cli.dhx("logs", running, "--attempt", "one")).rejects.toThrow(/--attempt must be a whole number/);
    await expect(cli.dhx("logs", running)).rejects.toThrow(/no log for attempt 1 of run/);
    await expect(cli.dhx("logs")).rejects.toThrow(/logs needs a run/);
    await expect(
      runCli(["--table", fx.stack.config.tableName, "logs", running], {}, { write: () => {} }),
    ).rejects.toThrow(/no log stream run\/ingestion\/[0-9a-f-]+ in \/dhx-test\/runs/);
  });
});

describe("dhx dlq", () => {
  it("lists refused messages with their reasons without taking them, and redrives one to the intake", async () => {
    const fx = await createFixture();
    const cli = await localCli(fx);
    await fx.dispatch([runMessage({ id: "heavy", extraEnv: { EXECUTOR_TASK_WEIGHT: "1.5" } })]);
    const letters = await cli.json<DeadLetter[]>("dlq", "list");
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      code: "INVALID_WEIGHT",
      executionRequestUrn: "urn:li:dataHubExecutionRequest:heavy",
    });
    expect(await cli.dhx("dlq", "list")).toMatch(/^message +code +execution request +reason\n\S+ +INVALID_WEIGHT/m);
    // Listing took nothing.
    expect(await cli.json<DeadLetter[]>("dlq", "list")).toHaveLength(1);

    const id = letters[0]?.messageId ?? "";
    expect(await cli.json("dlq", "redrive", id)).toEqual({ redriven: [id], notFound: [] });
    const [body] = await cli.takeIntake();
    expect(JSON.parse(body ?? "{}").executionRequestUrn).toBe("urn:li:dataHubExecutionRequest:heavy");
    expect(await cli.dhx("dlq", "list")).toBe("the dead-letter queue is empty\n");
  });

  it.each<[string[], RegExp]>([
    [["dlq", "redrive"], /dlq redrive needs message ids \(from dlq list\) or --all/],
    [["dlq", "redrive", "no-such-message"], /no message no-such-message in the dead-letter queue of local mode/],
    [["dlq", "purge"], /dlq needs list or redrive, got purge/],
  ])("refuses %j", async (argv, message) => {
    const fx = await createFixture();
    const cli = await localCli(fx);
    await expect(cli.dhx(...argv)).rejects.toThrow(message);
  });

  it("redrives everything with --all", async () => {
    const fx = await createFixture();
    const cli = await localCli(fx);
    await fx.dispatch([
      runMessage({ id: "bad-1", extraEnv: { EXECUTOR_TASK_WEIGHT: "9" } }),
      runMessage({ id: "bad-2", extraEnv: { EXECUTOR_TASK_WEIGHT: "9" } }),
    ]);
    expect((await cli.json<{ redriven: string[] }>("dlq", "redrive", "--all")).redriven).toHaveLength(2);
    expect((await cli.takeIntake()).length).toBe(2);
  });
});

describe("dhx targets", () => {
  it.each<[string[], Record<string, string>, RegExp]>([
    [["--stage", "nosuch", "status"], {}, /unknown stage: no settings for stage "nosuch"/],
    [["--stage", "Bad_Stage", "status"], {}, /unknown stage: stage "Bad_Stage" must be/],
    [["--stage", "ci", "status"], {}, /stage ci: table dhx-ci-executor does not exist here; is it deployed\?/],
    [
      ["--stage", "ci", "dlq", "list"],
      {},
      /stage ci has no queue dhx-ci-intake-dlq in us-east-1: is the stage deployed\?/,
    ],
    [["--stage", "ci", "--table", "t", "status"], {}, /pass --table or --stage, not both/],
    [["--table", "t", "submit", "x.yml"], {}, /--table names only a table; this command needs the stage's queues/],
    [["status"], { DHX_LOCAL_DIR: "/nonexistent/dhx" }, /local mode is not running/],
  ])("refuses %j with a clear error", async (argv, env, message) => {
    await createFixture();
    await expect(runCli(argv, env, { write: () => {} })).rejects.toThrow(message);
  });

  it("notices a local mode that has died", async () => {
    const fx = await createFixture();
    // Beyond any pid_max: no such process.
    const cli = await localCli(fx, { pid: 999_999_999 });
    await expect(cli.dhx("status")).rejects.toThrow(/local mode \(pid 999999999, .*\) is no longer running/);
  });

  it("local: prints its usage, and refuses to start a second local mode over a running one", async () => {
    const fx = await createFixture();
    const cli = await localCli(fx);
    expect(await cli.dhx("local", "--help")).toMatch(/^usage: npm start/);
    await expect(cli.dhx("local")).rejects.toThrow(ConfigError);
    await expect(cli.dhx("local")).rejects.toThrow(/local mode is already running \(pid \d+/);
  });

  it("prints its usage without a command", async () => {
    expect(
      await (async () => {
        let text = "";
        await runCli([], {}, { write: (t) => (text += t) });
        return text;
      })(),
    ).toMatch(/^usage: dhx \[--stage STAGE \| --table NAME\]/);
  });
});
