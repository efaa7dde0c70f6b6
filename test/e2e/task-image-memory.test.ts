import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createFixture } from "../support/executor-fixture.js";
import {
  dispatchRun,
  FIXTURES,
  fixtureRecipe,
  readReport,
  runTaskToEnd,
  taskEnvironment,
} from "./task-image-harness.js";

/** 100 MiB: well above what a bare Python needs, far below what the allocating process asks for. */
const SMALL_LIMIT_KIB = 100 * 1024;

describe("the run's memory limit (EXECUTOR_TASK_MEMORY_LIMIT, KiB)", () => {
  it("ends a process that allocates past it as OUT_OF_MEMORY, with a message naming the limit", async () => {
    const fx = await createFixture();
    const run = await dispatchRun(fx, {
      recipe: fixtureRecipe("file-to-file.yml", { __OUT__: "/tmp" }),
      extraEnv: { EXECUTOR_TASK_MEMORY_LIMIT: String(SMALL_LIMIT_KIB) },
    });

    const result = await runTaskToEnd(
      taskEnvironment(fx, run, { DHX_DATAHUB_CLI: join(FIXTURES, "fake-datahub-allocate.py") }),
    );

    expect(result.code).toBe(3);
    expect(result.stdout).toContain("allocating until the memory limit stops us");
    expect(result.stdout).not.toContain("never reached");
    const report = await readReport(fx, run);
    expect(report).toMatchObject({ outcome: "OUT_OF_MEMORY", exitCode: 3, memoryLimitKiB: SMALL_LIMIT_KIB });
    expect(report?.message).toBe(
      `out of memory: the ingestion process exceeded its limit of ${SMALL_LIMIT_KIB} KiB (Fargate 0.25 vCPU / 512 MiB); ` +
        "raise EXECUTOR_TASK_MEMORY_LIMIT in the source's extra_env_vars",
    );
    expect(String(report?.logTail)).toContain("MemoryError");
  });

  it("applies the limit to the real CLI too: too small a limit is reported as out of memory, not a crash", async () => {
    const fx = await createFixture();
    const run = await dispatchRun(fx, {
      recipe: fixtureRecipe("file-to-file.yml", { __OUT__: "/tmp" }),
      extraEnv: { EXECUTOR_TASK_MEMORY_LIMIT: String(48 * 1024) },
    });

    const result = await runTaskToEnd(taskEnvironment(fx, run));

    expect(result.code).toBe(3);
    expect((await readReport(fx, run))?.message).toMatch(/^out of memory: .* limit of 49152 KiB/);
  });
});
