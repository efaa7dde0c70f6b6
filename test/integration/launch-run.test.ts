import { describe, expect, it } from "vitest";
import { TASK_ENV, TASK_TAGS } from "../../functions/adapters/ecs/run-task-request.js";
import { runIdFor } from "../../functions/core/plan-run.js";
import { CANARY_SECRET_VALUE, createFixture, runMessage, SAMPLE_RECIPE } from "../support/executor-fixture.js";

describe("a valid message becomes one right-sized Fargate task", () => {
  it("launches one task with task- and container-level size, tags, startedBy, group and id-only overrides", async () => {
    const fx = await createFixture();
    const id = "3f1c2e7a-1b1d-4c7b-9a51-1c2d3e4f5a6b";
    const urn = `urn:li:dataHubExecutionRequest:${id}`;
    const response = await fx.dispatch([
      runMessage({ id, extraEnv: { EXECUTOR_TASK_MEMORY_LIMIT: String(6 * 1024 * 1024) } }),
    ]);
    expect(response.batchItemFailures).toEqual([]);

    const tasks = await fx.listTasks();
    expect(tasks).toHaveLength(1);
    const task = tasks[0];
    const runId = runIdFor(urn);
    const token = `dhx-${runId}-1`;
    // 6 GiB: the cheapest valid pair is 1 vCPU / 6144 MiB.
    expect(task?.overrides?.cpu).toBe("1024");
    expect(task?.overrides?.memory).toBe("6144");
    const container = task?.overrides?.containerOverrides?.[0];
    expect(container?.name).toBe("ingestion");
    expect(container?.cpu).toBe(1024);
    expect(container?.memory).toBe(6144);
    expect(container?.environment).toEqual([
      { name: TASK_ENV.RUN_ID, value: runId },
      { name: TASK_ENV.EXECUTION_REQUEST_URN, value: urn },
      { name: TASK_ENV.POOL, value: "main" },
      { name: TASK_ENV.LAUNCH_ATTEMPT, value: "1" },
    ]);
    expect(task?.startedBy).toBe(token);
    expect(task?.group).toBe("dhx-pool:main");
    expect(task?.launchType).toBe("FARGATE");
    expect(task?.tags).toEqual(
      expect.arrayContaining([
        { key: TASK_TAGS.RUN_ID, value: runId },
        { key: TASK_TAGS.EXECUTION_REQUEST_URN, value: urn },
        { key: TASK_TAGS.POOL, value: "main" },
        { key: TASK_TAGS.STAGE, value: "test" },
        { key: TASK_TAGS.LAUNCH_ATTEMPT, value: "1" },
      ]),
    );

    const run = await fx.deps.runs.getRun(runId);
    expect(run?.state).toBe("LAUNCHED");
    expect(run?.taskArn).toBe(task?.taskArn);
    expect(run?.fargate).toEqual({ cpu: 1024, memoryMiB: 6144 });
    expect(run?.secretNames).toEqual(["SNOWFLAKE_PASSWORD"]);
    expect(run?.history.map((h) => h.state)).toEqual(["WAITING", "LAUNCHING", "LAUNCHED"]);
  });

  it("keeps the recipe and secret values out of RunTask, the ECS task, run state items and logs", async () => {
    const fx = await createFixture();
    await fx.dispatch([runMessage()]);
    const tasks = await fx.listTasks();
    expect(tasks).toHaveLength(1);
    const recipeMarker = "acme-unique-account-4411";
    expect(SAMPLE_RECIPE).toContain(recipeMarker);

    const ecsText = JSON.stringify(tasks);
    expect(ecsText).not.toContain(recipeMarker);
    expect(ecsText).not.toContain(CANARY_SECRET_VALUE);

    const items = await fx.scanTable();
    expect(JSON.stringify(items)).not.toContain(CANARY_SECRET_VALUE);
    // The recipe is kept in exactly one place: the run's input item, which the task reads at start.
    const withRecipe = items.filter((item) => JSON.stringify(item).includes(recipeMarker));
    expect(withRecipe.map((item) => item.sk)).toEqual(["INPUT"]);

    expect(fx.logLines.length).toBeGreaterThan(0);
    const logs = fx.logLines.join("\n");
    expect(logs).not.toContain(CANARY_SECRET_VALUE);
    expect(logs).not.toContain(recipeMarker);
  });

  it("runs a limit above the largest Fargate size at the largest size and says so", async () => {
    const fx = await createFixture();
    const id = "big-one";
    await fx.dispatch([runMessage({ id, extraEnv: { EXECUTOR_TASK_MEMORY_LIMIT: "128000000" } })]);
    const run = await fx.deps.runs.getRun(runIdFor(`urn:li:dataHubExecutionRequest:${id}`));
    expect(run?.fargate).toEqual({ cpu: 16384, memoryMiB: 122880 });
    expect(run?.sizingNote).toMatch(/above the largest Fargate task/);
    const [task] = await fx.listTasks();
    expect(task?.overrides?.memory).toBe("122880");
  });
});
