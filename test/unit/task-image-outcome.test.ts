import { describe, expect, it } from "vitest";
import { buildRunReportPut } from "../../functions/adapters/dynamodb/report-requests.js";
import { Keys } from "../../functions/adapters/dynamodb/table-keys.js";
import { buildGetRecipeSecret } from "../../functions/adapters/secrets-manager/secret-requests.js";
import { chooseCli, type ImageCli } from "../../task-image/src/choose-cli.js";
import { classifyIngestionEnd, type IngestionEnd } from "../../task-image/src/classify-exit.js";
import { childEnvironment, recipeEnvelope } from "../../task-image/src/run-task.js";
import { loadTaskConfig } from "../../task-image/src/task-config.js";

const end: IngestionEnd = {
  exitCode: 0,
  signal: null,
  cancelled: false,
  killedAfterGrace: false,
  graceSeconds: 60,
  memoryErrorSeen: false,
  memoryLimitKiB: 6 * 1024 * 1024,
  fargate: { cpu: 1024, memoryMiB: 6144 },
  task: "RUN_INGEST",
  executable: "/opt/datahub/bin/datahub",
};

describe("how a CLI run ended", () => {
  it.each<[string, Partial<IngestionEnd>, number, string, string]>([
    ["exit 0", {}, 0, "SUCCESS", "the ingestion succeeded"],
    ["a connection test, exit 0", { task: "TEST_CONNECTION" }, 0, "SUCCESS", "the connection test succeeded"],
    [
      "exit 1",
      { exitCode: 1 },
      1,
      "INGESTION_FAILED",
      "the ingestion failed: datahub exited with code 1; see the log tail",
    ],
    [
      "ended by SIGSEGV",
      { exitCode: null, signal: "SIGSEGV" },
      1,
      "INGESTION_FAILED",
      "the ingestion failed: datahub was ended by SIGSEGV; see the log tail",
    ],
    [
      "MemoryError under the limit",
      { exitCode: 1, memoryErrorSeen: true },
      3,
      "OUT_OF_MEMORY",
      "out of memory: the ingestion process exceeded its limit of 6291456 KiB (Fargate 1 vCPU / 6144 MiB); " +
        "raise EXECUTOR_TASK_MEMORY_LIMIT in the source's extra_env_vars",
    ],
    [
      "SIGKILL nobody sent (the OOM killer)",
      { exitCode: null, signal: "SIGKILL" },
      3,
      "OUT_OF_MEMORY",
      "out of memory: the ingestion process was killed by SIGKILL (the out-of-memory killer's signal), most likely " +
        "for going past its limit of 6291456 KiB (Fargate 1 vCPU / 6144 MiB); raise EXECUTOR_TASK_MEMORY_LIMIT in " +
        "the source's extra_env_vars",
    ],
    ["exit 137", { exitCode: 137 }, 3, "OUT_OF_MEMORY", expect.stringMatching(/^out of memory: /) as unknown as string],
    [
      "a MemoryError mentioned by a run that succeeded",
      { exitCode: 0, memoryErrorSeen: true },
      0,
      "SUCCESS",
      "the ingestion succeeded",
    ],
    [
      "the CLI not found (prlimit's 127)",
      { exitCode: 127 },
      2,
      "SETUP_FAILED",
      "the DataHub CLI /opt/datahub/bin/datahub could not be started: it was not found",
    ],
    [
      "the CLI not executable (prlimit's 126)",
      { exitCode: 126 },
      2,
      "SETUP_FAILED",
      "the DataHub CLI /opt/datahub/bin/datahub could not be started: it is not executable",
    ],
    [
      "cancelled, stopped in time",
      { cancelled: true, exitCode: null, signal: "SIGTERM" },
      4,
      "CANCELLED",
      "cancelled: the task was asked to stop (SIGTERM) while the ingestion ran; its process group stopped",
    ],
    [
      "cancelled and killed after the grace period (SIGKILL is ours, not OOM)",
      { cancelled: true, killedAfterGrace: true, exitCode: null, signal: "SIGKILL", graceSeconds: 30 },
      4,
      "CANCELLED",
      "cancelled: the task was asked to stop (SIGTERM) while the ingestion ran; it did not stop within the 30 s " +
        "grace period and its process group was killed",
    ],
  ])("%s", (_, facts, exitCode, outcome, message) => {
    expect(classifyIngestionEnd({ ...end, ...facts })).toEqual({ exitCode, outcome, message });
  });
});

describe("which CLI runs", () => {
  const image: ImageCli = { executable: "/opt/datahub/bin/datahub", version: "1.7.0.17", plugins: ["datahub-rest"] };
  const options = { installs: "disabled" as const, cacheDir: "/cache", venvExists: () => false };

  it("runs the image's own when the version is absent or matches (a leading v too)", () => {
    for (const asked of [undefined, "", "1.7.0.17", "v1.7.0.17", " 1.7.0.17 "]) {
      expect(chooseCli(asked, image, options)).toEqual({
        kind: "image",
        executable: "/opt/datahub/bin/datahub",
        version: "1.7.0.17",
      });
    }
  });

  it("reuses a finished install, installs when allowed, refuses otherwise", () => {
    expect(
      chooseCli("1.6.0.5", image, { ...options, venvExists: (d) => d === "/cache/acryl-datahub-1.6.0.5" }),
    ).toEqual({ kind: "cached", executable: "/cache/acryl-datahub-1.6.0.5/bin/datahub", version: "1.6.0.5" });
    expect(chooseCli("1.6.0.5", image, { ...options, installs: "enabled" })).toEqual({
      kind: "install",
      executable: "/cache/acryl-datahub-1.6.0.5/bin/datahub",
      version: "1.6.0.5",
      venvDir: "/cache/acryl-datahub-1.6.0.5",
      requirement: "acryl-datahub[datahub-rest]==1.6.0.5",
    });
    expect(chooseCli("1.6.0.5", image, options)).toMatchObject({ kind: "refused" });
  });

  it("refuses a version that is not a version, whatever the install setting", () => {
    for (const asked of ["latest", "1.0; rm -rf /", "1.0 --index-url=http://evil", "../1.0"]) {
      expect(chooseCli(asked, image, { ...options, installs: "enabled" })).toMatchObject({ kind: "refused" });
    }
  });
});

describe("the report item and the Secrets Manager request", () => {
  it("builds the report Put exactly", () => {
    expect(
      buildRunReportPut("dhx-test-executor", {
        runId: "0123456789abcdef01234567",
        executionRequestUrn: "urn:li:dataHubExecutionRequest:abc",
        launchAttempt: 2,
        exitCode: 3,
        outcome: "OUT_OF_MEMORY",
        message: "out of memory: ...",
        logTail: "MemoryError\n",
        cliVersion: "1.7.0.17",
        memoryLimitKiB: 102400,
        startedAtMs: 1000,
        finishedAtMs: 2000,
      }),
    ).toEqual({
      TableName: "dhx-test-executor",
      Item: {
        pk: "RUN#0123456789abcdef01234567",
        sk: "REPORT#002",
        entity: "run-report",
        runId: "0123456789abcdef01234567",
        executionRequestUrn: "urn:li:dataHubExecutionRequest:abc",
        launchAttempt: 2,
        exitCode: 3,
        outcome: "OUT_OF_MEMORY",
        message: "out of memory: ...",
        logTail: "MemoryError\n",
        cliVersion: "1.7.0.17",
        memoryLimitKiB: 102400,
        startedAtMs: 1000,
        finishedAtMs: 2000,
      },
    });
    expect(Keys.runReport("r", 17)).toEqual({ pk: "RUN#r", sk: "REPORT#017" });
  });

  it("reads a recipe secret by its stage-prefixed name", () => {
    expect(buildGetRecipeSecret("datahub-executor/prod/", "SNOWFLAKE_PASSWORD")).toEqual({
      SecretId: "datahub-executor/prod/SNOWFLAKE_PASSWORD",
    });
  });
});

describe("what the CLI is given", () => {
  it("gets the recipe as written and the values beside it, in DataHub's stdin envelope", () => {
    const recipe = "source:\n  config:\n    password: ${PW}\n";
    expect(JSON.parse(recipeEnvelope(recipe, new Map([["PW", "p$ss"]])))).toEqual({
      __recipe_yaml__: recipe,
      __secrets__: { PW: "p$ss" },
    });
  });

  it("gets the container's environment with the run's extra_env_vars on top", () => {
    expect(childEnvironment({ PATH: "/bin", A: "container", B: undefined }, { A: "run" })).toEqual({
      PYTHONUNBUFFERED: "1",
      MALLOC_ARENA_MAX: "2",
      PATH: "/bin",
      A: "run",
    });
  });
});

describe("the task's configuration", () => {
  const env = {
    DHX_RUN_ID: "0123456789abcdef01234567",
    DHX_EXECUTION_REQUEST_URN: "urn:li:dataHubExecutionRequest:abc",
    DHX_POOL: "main",
    DHX_LAUNCH_ATTEMPT: "1",
    DHX_STAGE: "prod",
    DHX_TABLE_NAME: "t",
    DHX_SECRET_PREFIX: "datahub-executor/prod/",
    DHX_DATAHUB_CLI_VERSION: "1.7.0.17",
  };

  it("has the documented defaults", () => {
    expect(loadTaskConfig(env)).toMatchObject({
      fileSecretBaseDir: "/mnt/secrets",
      fileSecretMaxBytes: 1_048_576,
      cliInstalls: "disabled",
      imageCli: { executable: "datahub", version: "1.7.0.17", plugins: [] },
      cancelGraceSeconds: 60,
    });
  });

  it("names each missing or wrong variable", () => {
    const { DHX_TABLE_NAME: _, ...missing } = env;
    expect(() => loadTaskConfig({ ...missing, DHX_CANCEL_GRACE_SECONDS: "115" })).toThrow(
      "task configuration is incomplete: DHX_TABLE_NAME is not set; DHX_CANCEL_GRACE_SECONDS: Too big: expected number to be <=100",
    );
  });
});
