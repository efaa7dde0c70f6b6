import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { launchTokenFor, type RunRecord } from "../../functions/core/run-record.js";
import { TaskStateChangeEvent } from "../../functions/core/task-state-change-event.js";
import { LocalRunLogs } from "../../functions/local/local-run-logs.js";
import { LocalTaskLauncher } from "../../functions/local/local-task-launcher.js";
import { waitFor } from "./task-image-harness.js";

const CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/dhx-unit-cluster";

/** The local launcher with a stand-in entrypoint (a tiny node script), to pin the events and answers it gives. */
function launcherWith(script: string) {
  const dir = mkdtempSync(join(tmpdir(), "dhx-launcher-"));
  const entrypoint = join(dir, "entrypoint.mjs");
  writeFileSync(entrypoint, script);
  const events: TaskStateChangeEvent[] = [];
  const launcher = new LocalTaskLauncher(
    {
      clusterArn: CLUSTER,
      containerName: "ingestion",
      entrypoint,
      logDir: join(dir, "logs"),
      cwd: dir,
      environment: { PATH: process.env.PATH ?? "", DHX_TABLE_NAME: "the-table" },
    },
    (event) => events.push(event),
  );
  return { launcher, events };
}

function run(runId: string, attempt = 1): RunRecord {
  return {
    runId,
    executionRequestUrn: `urn:li:dataHubExecutionRequest:${runId}`,
    poolId: "local",
    launchAttempt: attempt,
    launch: { attempt, token: launchTokenFor(runId, attempt), intentAtMs: 1 },
  } as RunRecord;
}

describe("LocalTaskLauncher", () => {
  it("runs the entrypoint with the task's environment and emits ECS's RUNNING then STOPPED with the exit code", async () => {
    const { launcher, events } = launcherWith(
      "console.log(`run ${process.env.DHX_RUN_ID} attempt ${process.env.DHX_LAUNCH_ATTEMPT} pool ${process.env.DHX_POOL} table ${process.env.DHX_TABLE_NAME} home ${process.env.HOME ?? 'none'}`); process.exit(7);",
    );
    const record = run("a".repeat(24), 2);
    const answer = await launcher.runTask(record);
    expect(answer).toMatchObject({ kind: "response", failures: [] });
    const taskArn = answer.kind === "response" ? (answer.taskArns[0] ?? "") : "";
    expect(taskArn).toMatch(/^arn:aws:ecs:us-east-1:123456789012:task\/dhx-unit-cluster\/[0-9a-f]{32}$/);
    // RunTask's clientToken: the same token answers the same task, and findTask finds it by startedBy.
    expect(await launcher.runTask(record)).toEqual(answer);
    expect(await launcher.findTask(launchTokenFor(record.runId, 2))).toBe(taskArn);
    expect(await launcher.findTask(launchTokenFor(record.runId, 1))).toBeUndefined();

    await waitFor("the STOPPED event", () => (events.length === 2 ? true : undefined));
    const [running, stopped] = events.map((e) => TaskStateChangeEvent.parse(e));
    expect(running?.detail).toMatchObject({
      taskArn,
      clusterArn: CLUSTER,
      lastStatus: "RUNNING",
      startedBy: `dhx-${"a".repeat(24)}-2`,
    });
    expect(stopped?.detail).toMatchObject({
      lastStatus: "STOPPED",
      stopCode: "EssentialContainerExited",
      containers: [{ name: "ingestion", exitCode: 7, lastStatus: "STOPPED" }],
    });
    expect(await launcher.describeTasks([taskArn, `${CLUSTER}/gone`])).toEqual([
      {
        taskArn,
        lastStatus: "STOPPED",
        stopCode: "EssentialContainerExited",
        stoppedReason: "Essential container in task exited",
        startedAtMs: expect.any(Number),
        containers: [{ name: "ingestion", exitCode: 7 }],
      },
      { taskArn: `${CLUSTER}/gone`, lastStatus: "MISSING", containers: [] },
    ]);
    // Nothing of the user's shell but PATH: HOME is unset here because the settings gave none.
    expect(await new LocalRunLogs(launcher).tail(taskArn)).toBe(
      `run ${"a".repeat(24)} attempt 2 pool local table the-table home none`,
    );
  });

  it("stops a task with SIGTERM, marked as the executor's stop, and stopAll refuses new tasks", async () => {
    const { launcher, events } = launcherWith(
      "process.on('SIGTERM', () => { console.log('asked to stop'); process.exit(4); }); setInterval(() => {}, 1000); console.log('started');",
    );
    const answer = await launcher.runTask(run("b".repeat(24)));
    const taskArn = answer.kind === "response" ? (answer.taskArns[0] ?? "") : "";
    await waitFor("the task to start", () => (events.length === 1 ? true : undefined));
    const path = launcher.logPathOf(taskArn) ?? "";
    await waitFor("its first line", () => (readFileSync(path, "utf8").includes("started") ? true : undefined));

    await launcher.stopAll("dhx: cancel: not today");
    expect(events[1]?.detail).toMatchObject({
      lastStatus: "STOPPED",
      stopCode: "UserInitiated",
      stoppedReason: "dhx: cancel: not today",
      containers: [{ exitCode: 4 }],
    });
    expect(readFileSync(path, "utf8")).toContain("asked to stop");
    expect(await launcher.runTask(run("c".repeat(24)))).toEqual({
      kind: "error",
      name: "LocalModeStopping",
      message: "local mode is stopping",
    });
  });
});
