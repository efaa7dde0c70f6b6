import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildRunScan } from "../../functions/adapters/dynamodb/dynamodb-run-listing.js";
import { formatElapsed, formatTable } from "../../functions/cli/cli-output.js";
import { buildSubmitMessage, parseMemoryKiB } from "../../functions/cli/commands/submit-command.js";
import { parseIntakeMessage } from "../../functions/core/execution-request-message.js";

/** The CLI's pure parts, exact output (no AWS here). */
describe("dhx builders", () => {
  it("scans for run items only, page after page", () => {
    expect(buildRunScan("t")).toEqual({
      TableName: "t",
      FilterExpression: "#entity = :run",
      ExpressionAttributeNames: { "#entity": "entity" },
      ExpressionAttributeValues: { ":run": "run" },
    });
    expect(buildRunScan("t", { pk: "RUN#a", sk: "RUN" }).ExclusiveStartKey).toEqual({ pk: "RUN#a", sk: "RUN" });
  });

  it("builds the v1 message exactly, and the intake's own parser accepts it", () => {
    const recipe = join(mkdtempSync(join(tmpdir(), "dhx-b-")), "r.yml");
    writeFileSync(recipe, "source:\n  type: file\n");
    const body = buildSubmitMessage(
      { recipePath: recipe, pool: "etl", weight: "0.5", memory: "512MiB", priority: "-3", cliVersion: "1.7.0.17" },
      "urn:li:dataHubExecutionRequest:dhx-1",
      1_764_300_000_000,
    );
    expect(JSON.parse(body)).toEqual({
      version: 1,
      executionRequestUrn: "urn:li:dataHubExecutionRequest:dhx-1",
      pool: "etl",
      priority: -3,
      input: {
        task: "RUN_INGEST",
        args: {
          recipe: "source:\n  type: file\n",
          version: "1.7.0.17",
          extra_env_vars: '{"EXECUTOR_TASK_WEIGHT":"0.5","EXECUTOR_TASK_MEMORY_LIMIT":"524288"}',
        },
        source: { type: "CLI_INGESTION_SOURCE" },
        requestedAt: 1_764_300_000_000,
      },
    });
    expect(parseIntakeMessage(body)).toMatchObject({ kind: "run", pool: "etl", priority: -3 });
    const bare = JSON.parse(buildSubmitMessage({ recipePath: recipe }, "urn:li:dataHubExecutionRequest:dhx-2", 1));
    expect(bare.input.args).toEqual({ recipe: "source:\n  type: file\n" });
    expect(bare).not.toHaveProperty("pool");
  });

  it.each([
    ["4194304", 4_194_304],
    ["512MiB", 524_288],
    ["2GiB", 2_097_152],
    ["2 gib", 2_097_152],
    ["1KiB", 1],
  ])("reads --memory %s as %d KiB", (text, kib) => {
    expect(parseMemoryKiB(text)).toBe(kib);
  });

  it.each(["0", "2TB", "-1", "1.5GiB", ""])("refuses --memory %j", (text) => {
    expect(() => parseMemoryKiB(text)).toThrow(/--memory must be/);
  });

  it("formats durations and tables for reading at a glance", () => {
    expect([0, 999, 59_499, 75_000, 3_600_000, 3_725_000].map(formatElapsed)).toEqual([
      "0s",
      "1s",
      "59s",
      "1m15s",
      "1h00m",
      "1h02m",
    ]);
    expect(formatElapsed(undefined)).toBe("");
    expect(
      formatTable(
        ["a", "bb"],
        [
          ["xyz", ""],
          ["1", "2"],
        ],
      ),
    ).toBe("a    bb\nxyz\n1    2");
  });
});
