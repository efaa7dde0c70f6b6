import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createFixture } from "../support/executor-fixture.js";
import {
  dispatchRun,
  FIXTURES,
  fixtureRecipe,
  IMAGE_CLI_VERSION,
  readReport,
  runTaskToEnd,
  startStubGms,
  taskEnvironment,
  VENV_DATAHUB,
} from "./task-image-harness.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("the task image's entrypoint runs a shipped recipe with the real datahub CLI", () => {
  it("file source into the REST sink: exit 0, a report counting the events, and the stub GMS got them", async () => {
    const fx = await createFixture();
    const gms = await startStubGms();
    cleanups.push(() => gms.close());
    const run = await dispatchRun(fx, { recipe: fixtureRecipe("file-to-rest.yml", { __GMS__: gms.url }) });

    const result = await runTaskToEnd(taskEnvironment(fx, run));

    expect(result.code, result.stderr).toBe(0);
    const report = await readReport(fx, run);
    expect(report).toMatchObject({
      entity: "run-report",
      runId: run.runId,
      executionRequestUrn: run.urn,
      launchAttempt: 1,
      exitCode: 0,
      outcome: "SUCCESS",
      message: "the ingestion succeeded",
      cliVersion: IMAGE_CLI_VERSION,
      memoryLimitKiB: 4 * 1024 * 1024,
    });
    const structured = JSON.parse(String(report?.structuredReport)) as {
      source: { type: string; report: { events_produced: number; failures: unknown[] } };
      sink: { type: string };
    };
    expect(structured.source.type).toBe("file");
    expect(structured.source.report.events_produced).toBe(3);
    expect(structured.source.report.failures).toEqual([]);
    expect(structured.sink.type).toBe("datahub-rest");
    expect(String(report?.logTail)).toContain("Pipeline finished successfully; produced 3 events");
    expect(Number(report?.finishedAtMs)).toBeGreaterThanOrEqual(Number(report?.startedAtMs));

    const received = gms.proposals();
    expect(received.map((p) => p.entityUrn).sort()).toEqual([
      "urn:li:dataset:(urn:li:dataPlatform:hive,fixture.customers,PROD)",
      "urn:li:dataset:(urn:li:dataPlatform:hive,fixture.orders,PROD)",
      "urn:li:dataset:(urn:li:dataPlatform:hive,fixture.payments,PROD)",
    ]);
    expect(received.every((p) => p.aspectName === "datasetProperties")).toBe(true);
  });

  it("file source into a file sink: exit 0, the events written, and no structured report noted as such", async () => {
    const fx = await createFixture();
    const out = mkdtempSync(join(tmpdir(), "dhx-out-"));
    const run = await dispatchRun(fx, { recipe: fixtureRecipe("file-to-file.yml", { __OUT__: out }) });

    const result = await runTaskToEnd(taskEnvironment(fx, run));

    expect(result.code, result.stderr).toBe(0);
    const events = JSON.parse(readFileSync(join(out, "events.json"), "utf8")) as unknown[];
    expect(events).toHaveLength(3);
    const report = await readReport(fx, run);
    expect(report?.outcome).toBe("SUCCESS");
    // datahub 1.7.0.17's file sink does not run the sink's shutdown hooks, where --report-to is written.
    expect(report?.message).toBe("the ingestion succeeded; the CLI wrote no structured report");
    expect(report).not.toHaveProperty("structuredReport");
  });

  it("passes extra_env_vars to the CLI and the recipe's own ${VAR} forms resolve from them", async () => {
    const fx = await createFixture();
    const out = mkdtempSync(join(tmpdir(), "dhx-out-"));
    // ${VAR:-default} is the CLI's syntax, not a secret reference (DataHub's `\$\{(\w+)\}` does not match it).
    const recipe = fixtureRecipe("file-to-file.yml", { __OUT__: "${DHX_FIXTURE_OUT:-/nonexistent}" });
    const run = await dispatchRun(fx, { recipe, extraEnv: { DHX_FIXTURE_OUT: out } });

    const result = await runTaskToEnd(taskEnvironment(fx, run));

    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "events.json"), "utf8"))).toHaveLength(3);
  });

  it("TEST_CONNECTION runs the CLI's connection test and keeps its report", async () => {
    const fx = await createFixture();
    const out = mkdtempSync(join(tmpdir(), "dhx-out-"));
    const run = await dispatchRun(fx, {
      task: "TEST_CONNECTION",
      recipe: fixtureRecipe("file-to-file.yml", { __OUT__: out }),
    });

    const result = await runTaskToEnd(taskEnvironment(fx, run));

    expect(result.code, result.stderr).toBe(0);
    const report = await readReport(fx, run);
    expect(report?.outcome).toBe("SUCCESS");
    expect(report?.message).toBe("the connection test succeeded");
    expect(JSON.parse(String(report?.structuredReport))).toHaveProperty("basic_connectivity");
  });
});

describe("the CLI version a run asks for", () => {
  it("refuses another version when installs are disabled, saying what to change", async () => {
    const fx = await createFixture();
    const run = await dispatchRun(fx, {
      recipe: fixtureRecipe("file-to-file.yml", { __OUT__: "/tmp" }),
      version: "1.6.0.5",
    });

    const result = await runTaskToEnd(taskEnvironment(fx, run, { DHX_CLI_INSTALLS: "disabled" }));

    expect(result.code).toBe(2);
    const report = await readReport(fx, run);
    expect(report?.outcome).toBe("SETUP_FAILED");
    expect(report?.message).toBe(
      `the run asks for DataHub CLI 1.6.0.5 but this image has ${IMAGE_CLI_VERSION} and installs are disabled ` +
        `(DHX_CLI_INSTALLS): set the source's CLI version to ${IMAGE_CLI_VERSION}, build the image with ` +
        "DATAHUB_VERSION=1.6.0.5, or enable installs for the stage",
    );
  });

  it("runs a version already installed in the CLI cache", async () => {
    const fx = await createFixture();
    const out = mkdtempSync(join(tmpdir(), "dhx-out-"));
    const cache = mkdtempSync(join(tmpdir(), "dhx-cli-cache-"));
    // A finished install of "1.6.0.5": the venv's datahub (here the test venv's) and the completion marker.
    const venv = join(cache, "acryl-datahub-1.6.0.5");
    mkdirSync(join(venv, "bin"), { recursive: true });
    symlinkSync(VENV_DATAHUB, join(venv, "bin", "datahub"));
    writeFileSync(join(venv, ".dhx-installed"), "acryl-datahub==1.6.0.5\n");
    const run = await dispatchRun(fx, {
      recipe: fixtureRecipe("file-to-file.yml", { __OUT__: out }),
      version: "1.6.0.5",
    });

    const result = await runTaskToEnd(taskEnvironment(fx, run, { DHX_CLI_CACHE_DIR: cache }));

    expect(result.code, result.stderr).toBe(0);
    expect((await readReport(fx, run))?.cliVersion).toBe("1.6.0.5");
  });

  it("names a CLI that cannot be started as a setup failure", async () => {
    const fx = await createFixture();
    const run = await dispatchRun(fx, { recipe: fixtureRecipe("file-to-file.yml", { __OUT__: "/tmp" }) });

    const result = await runTaskToEnd(taskEnvironment(fx, run, { DHX_DATAHUB_CLI: "/nonexistent/bin/datahub" }));

    expect(result.code).toBe(2);
    expect((await readReport(fx, run))?.message).toBe(
      "the DataHub CLI /nonexistent/bin/datahub could not be started: it was not found",
    );
  });

  it("leaves out a structured report over 200,000 bytes and says so", async () => {
    const fx = await createFixture();
    const run = await dispatchRun(fx, {
      recipe: fixtureRecipe("file-to-file.yml", { __OUT__: "/tmp" }),
      extraEnv: { FAKE_REPORT_PADDING: "200000" },
    });

    const result = await runTaskToEnd(
      taskEnvironment(fx, run, { DHX_DATAHUB_CLI: join(FIXTURES, "fake-datahub-echo.py") }),
    );

    expect(result.code).toBe(1);
    const report = await readReport(fx, run);
    expect(report).not.toHaveProperty("structuredReport");
    expect(report?.message).toMatch(
      /^the ingestion failed: datahub exited with code 1; see the log tail; the structured report \(2000\d\d bytes\) is over the 200000-byte limit and was left out$/,
    );
  });

  it("installs an asked version when installs are enabled; a failed install is a setup failure, left unmarked", async () => {
    const fx = await createFixture();
    const run = await dispatchRun(fx, {
      recipe: fixtureRecipe("file-to-file.yml", { __OUT__: "/tmp" }),
      version: "1.6.0.5",
    });
    // No package index: the venv is made, pip fails; the run must say so and leave no venv marked complete.
    const env = taskEnvironment(fx, run, { DHX_CLI_INSTALLS: "enabled", PIP_NO_INDEX: "1" });

    const result = await runTaskToEnd(env);

    expect(result.code).toBe(2);
    const venv = join(env.DHX_CLI_CACHE_DIR ?? "", "acryl-datahub-1.6.0.5");
    expect((await readReport(fx, run))?.message).toBe(
      `installing DataHub CLI 1.6.0.5 (acryl-datahub==1.6.0.5) failed: ${venv}/bin/pip exited with 1`,
    );
    expect(existsSync(join(venv, "bin", "python"))).toBe(true);
    expect(existsSync(join(venv, ".dhx-installed"))).toBe(false);
  });

  it("refuses extra_pip_requirements with a clear message, before running anything", async () => {
    const fx = await createFixture();
    const run = await dispatchRun(fx, {
      recipe: fixtureRecipe("file-to-file.yml", { __OUT__: "/tmp" }),
      extraArgs: { extra_pip_requirements: '["snowflake-connector-python==3.12.0"]' },
    });

    const result = await runTaskToEnd(taskEnvironment(fx, run));

    expect(result.code).toBe(2);
    expect((await readReport(fx, run))?.message).toMatch(/^input\.args\.extra_pip_requirements is not supported/);
  });
});
