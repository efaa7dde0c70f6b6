import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { expect, it } from "vitest";
import type { RunDetail } from "../../functions/cli/commands/status-command.js";
import { runCli } from "../../functions/cli/dhx.js";
import { SAMPLE_RECIPE, startLocalMode } from "../../functions/local/local-mode.js";
import { startStubGms } from "../support/stub-gms.js";

/** With DATAHUB_GMS_URL and a token, local mode reports to that GMS (here the strict stub) instead of the status log. */
it("reports a sample run's statuses to GMS, with its token, in DataHub's shapes", async () => {
  const gms = await startStubGms();
  const token = "local-gms-token-51c0";
  gms.requireToken(token);
  const dir = mkdtempSync(join(tmpdir(), "dhx-local-gms-"));
  const local = await startLocalMode({
    dir,
    config: {
      stage: "gms",
      pools: [{ id: "gms" }],
      reconcileIntervalSeconds: 5,
      intakePollIntervalSeconds: 1,
      intakeLookbackMinutes: 10,
      secrets: {},
    },
    gms: { url: gms.url, token },
    logger: new Logger({ serviceName: "local-mode-gms", logLevel: "WARN" }),
  });
  try {
    expect(local.state).toMatchObject({ gmsUrl: gms.url });
    expect(local.state.statusLogPath).toBeUndefined();
    let text = "";
    await runCli(["--json", "submit", SAMPLE_RECIPE], { DHX_LOCAL_DIR: dir }, { write: (t) => (text += t) });
    const { executionRequestUrn, runId } = JSON.parse(text) as { executionRequestUrn: string; runId: string };

    const deadline = Date.now() + 150_000;
    while (!gms.resultWrites(executionRequestUrn).includes("SUCCESS")) {
      if (Date.now() > deadline) throw new Error(`no SUCCESS at GMS: ${gms.resultWrites(executionRequestUrn)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(gms.resultWrites(executionRequestUrn)).toEqual(["RUNNING", "SUCCESS"]);
    // The stub checks every body against DataHub's shapes and the token; it saw nothing wrong.
    expect(gms.violations).toEqual([]);

    // DataHub's "Run" on an ingestion source (here through dhx submit --source): GMS creates the request, local
    // mode's intake poll finds it for pool "gms" and runs it.
    const source = "urn:li:dataHubIngestionSource:local-sample";
    gms.putIngestionSource(source, {
      recipe: {
        source: { type: "file", config: { path: "functions/local/sample/sample-metadata.json" } },
        sink: { type: "console" },
      },
      executorId: "gms",
    });
    text = "";
    await runCli(
      ["--json", "submit", "--source", source],
      { DHX_LOCAL_DIR: dir, DATAHUB_GMS_TOKEN: token },
      { write: (t) => (text += t) },
    );
    const fromSource = (JSON.parse(text) as { executionRequestUrn: string }).executionRequestUrn;
    while (!gms.resultWrites(fromSource).includes("SUCCESS")) {
      if (Date.now() > deadline) throw new Error(`no SUCCESS for the source's run: ${gms.resultWrites(fromSource)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(gms.resultWrites(fromSource)).toEqual(["RUNNING", "SUCCESS"]);
    expect(gms.violations).toEqual([]);

    text = "";
    await runCli(["--json", "status", runId], { DHX_LOCAL_DIR: dir }, { write: (t) => (text += t) });
    const detail = JSON.parse(text) as RunDetail;
    expect(detail.run.state).toBe("SUCCESS");
    // GMS holds the statuses now; there is no local log to show.
    expect(detail.delivered).toBeUndefined();
  } finally {
    await local.stop();
    await gms.close();
  }
});
