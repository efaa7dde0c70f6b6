import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateSecretCommand, DeleteSecretCommand, PutSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { SecretsManagerSecretReader } from "../../functions/adapters/secrets-manager/secrets-manager-secret-reader.js";
import { resolveSecrets } from "../../task-image/src/resolve-secrets.js";
import { CANARY_SECRET_VALUE, createFixture, type Fixture } from "../support/executor-fixture.js";
import {
  type DispatchedRun,
  dispatchRun,
  FIXTURES,
  fixtureRecipe,
  readReport,
  runTaskToEnd,
  taskEnvironment,
} from "./task-image-harness.js";

const PREFIX = "dhx-test/";

async function putStageSecret(fx: Fixture, name: string, value: string): Promise<void> {
  await fx.clients.secrets.send(new CreateSecretCommand({ Name: `${PREFIX}${name}`, SecretString: value }));
}

function eventsText(out: string): string {
  return readFileSync(join(out, "events.json"), "utf8");
}

/** Everything the task wrote where someone could read it: its output, its report item, the whole table. */
async function everythingWritten(fx: Fixture, run: DispatchedRun, result: { stdout: string; stderr: string }) {
  return [
    result.stdout,
    result.stderr,
    JSON.stringify(await readReport(fx, run)),
    JSON.stringify(await fx.scanTable()),
  ];
}

describe("recipe secrets", () => {
  it("resolves from the environment first, then a file, then Secrets Manager, and the CLI gets those values", async () => {
    const fx = await createFixture();
    const out = mkdtempSync(join(tmpdir(), "dhx-out-"));
    const run = await dispatchRun(fx, { recipe: fixtureRecipe("secrets-to-file.yml", { __OUT__: out }), debug: true });
    const env = taskEnvironment(fx, run, { DHX_FIXTURE_FROM_ENV: "value-from-env" });
    const files = env.DATAHUB_EXECUTOR_FILE_SECRET_BASEDIR ?? "";
    writeFileSync(join(files, "DHX_FIXTURE_FROM_ENV"), "file-value-shadowed-by-env\n");
    writeFileSync(join(files, "DHX_FIXTURE_FROM_FILE"), "value-from-file\n");
    await putStageSecret(fx, "DHX_FIXTURE_FROM_ENV", "sm-value-shadowed-by-env");
    await putStageSecret(fx, "DHX_FIXTURE_FROM_FILE", "sm-value-shadowed-by-file");
    await putStageSecret(fx, "DHX_FIXTURE_FROM_SM", CANARY_SECRET_VALUE);

    const result = await runTaskToEnd(env);

    expect(result.code, result.stderr).toBe(0);
    const events = eventsText(out);
    expect(events).toContain('"from_env": "value-from-env"');
    // The file's trailing newline is not part of the secret.
    expect(events).toContain('"from_file": "value-from-file"');
    expect(events).toContain(`"from_secrets_manager": "${CANARY_SECRET_VALUE}"`);
    expect(events).not.toContain("shadowed");
    const resolvedLog = result.stdout.split("\n").find((line) => line.includes('"secrets resolved"'));
    expect(JSON.parse(resolvedLog ?? "{}").found).toEqual({
      DHX_FIXTURE_FROM_ENV: "environment",
      DHX_FIXTURE_FROM_FILE: "file",
      DHX_FIXTURE_FROM_SM: "secrets-manager",
    });

    // The canary reached the CLI (it is in the sink's output) and nowhere the task writes, debug mode included.
    for (const text of await everythingWritten(fx, run, result)) {
      expect(text).not.toContain(CANARY_SECRET_VALUE);
      expect(text).not.toContain("value-from-env");
      expect(text).not.toContain("value-from-file");
    }
  });

  it("uses a rotated Secrets Manager value on the next run, with no redeploy", async () => {
    const fx = await createFixture();
    const recipeFor = (out: string) =>
      fixtureRecipe("secrets-to-file.yml", { __OUT__: out }).replace(
        /properties:[\s\S]*?sink:/,
        "properties:\n        rotated: ${DHX_FIXTURE_ROTATED}\nsink:",
      );
    await putStageSecret(fx, "DHX_FIXTURE_ROTATED", "rotation-one");
    const firstOut = mkdtempSync(join(tmpdir(), "dhx-out-"));
    const first = await dispatchRun(fx, { recipe: recipeFor(firstOut) });
    expect((await runTaskToEnd(taskEnvironment(fx, first))).code).toBe(0);

    await fx.clients.secrets.send(
      new PutSecretValueCommand({ SecretId: `${PREFIX}DHX_FIXTURE_ROTATED`, SecretString: "rotation-two" }),
    );
    const secondOut = mkdtempSync(join(tmpdir(), "dhx-out-"));
    const second = await dispatchRun(fx, { recipe: recipeFor(secondOut) });
    expect((await runTaskToEnd(taskEnvironment(fx, second))).code).toBe(0);

    expect(eventsText(firstOut)).toContain('"rotated": "rotation-one"');
    expect(eventsText(secondOut)).toContain('"rotated": "rotation-two"');
  });

  it("fails a name found nowhere with an error that names it, and still resolves the others", async () => {
    const fx = await createFixture();
    const recipe = fixtureRecipe("file-to-file.yml", { __OUT__: "/tmp/${DHX_FIXTURE_NOWHERE}/${SNOWFLAKE_PASSWORD}" });
    const run = await dispatchRun(fx, { recipe });
    const env = taskEnvironment(fx, run);

    const result = await runTaskToEnd(env);

    expect(result.code).toBe(2);
    const report = await readReport(fx, run);
    expect(report?.outcome).toBe("SETUP_FAILED");
    expect(report?.message).toBe(
      "secret DHX_FIXTURE_NOWHERE is referenced by the recipe but was found nowhere: not in the task's " +
        `environment, not as the file ${env.DATAHUB_EXECUTOR_FILE_SECRET_BASEDIR}/DHX_FIXTURE_NOWHERE, ` +
        "not in Secrets Manager as dhx-test/DHX_FIXTURE_NOWHERE",
    );
    const resolvedLog = result.stdout.split("\n").find((line) => line.includes('"secrets resolved"'));
    expect(JSON.parse(resolvedLog ?? "{}")).toMatchObject({
      found: { SNOWFLAKE_PASSWORD: "secrets-manager" },
      unresolved: ["DHX_FIXTURE_NOWHERE"],
    });
    for (const text of await everythingWritten(fx, run, result)) expect(text).not.toContain(CANARY_SECRET_VALUE);
  });

  it("names a secret Secrets Manager will not give, without blanking the others", async () => {
    const fx = await createFixture();
    await putStageSecret(fx, "DHX_FIXTURE_DELETED", "value-of-a-deleted-secret");
    // A secret scheduled for deletion exists but cannot be read (InvalidRequestException).
    await fx.clients.secrets.send(
      new DeleteSecretCommand({ SecretId: `${PREFIX}DHX_FIXTURE_DELETED`, RecoveryWindowInDays: 7 }),
    );
    const reader = new SecretsManagerSecretReader(fx.clients.secrets, PREFIX);

    const resolved = await resolveSecrets(["DHX_FIXTURE_DELETED", "SNOWFLAKE_PASSWORD"], {
      environment: {},
      fileBaseDir: mkdtempSync(join(tmpdir(), "dhx-secrets-")),
      fileMaxBytes: 1_048_576,
      secretsManager: reader,
      secretPrefix: PREFIX,
    });

    expect(resolved.values.get("SNOWFLAKE_PASSWORD")).toBe(CANARY_SECRET_VALUE);
    expect(resolved.problems).toEqual([
      "secret DHX_FIXTURE_DELETED could not be read from Secrets Manager (dhx-test/DHX_FIXTURE_DELETED): InvalidRequestException",
    ]);
  });

  it("refuses a secret file over DATAHUB_EXECUTOR_FILE_SECRET_MAXLEN and accepts one at the limit", async () => {
    const fx = await createFixture();
    const recipe = fixtureRecipe("file-to-file.yml", { __OUT__: "/tmp/${DHX_FIXTURE_BIG}" });
    const run = await dispatchRun(fx, { recipe });
    const env = taskEnvironment(fx, run, { DATAHUB_EXECUTOR_FILE_SECRET_MAXLEN: "16" });
    const files = env.DATAHUB_EXECUTOR_FILE_SECRET_BASEDIR ?? "";
    writeFileSync(join(files, "DHX_FIXTURE_BIG"), "x".repeat(17));
    writeFileSync(join(files, "DHX_FIXTURE_AT_LIMIT"), "y".repeat(16));

    const result = await runTaskToEnd(env);

    expect(result.code).toBe(2);
    expect((await readReport(fx, run))?.message).toBe(
      `secret file ${files}/DHX_FIXTURE_BIG is 17 bytes, over the limit of 16 bytes (DATAHUB_EXECUTOR_FILE_SECRET_MAXLEN)`,
    );
    const atLimit = await resolveSecrets(["DHX_FIXTURE_AT_LIMIT"], {
      environment: {},
      fileBaseDir: files,
      fileMaxBytes: 16,
      secretsManager: new SecretsManagerSecretReader(fx.clients.secrets, PREFIX),
      secretPrefix: PREFIX,
    });
    expect(atLimit).toMatchObject({ problems: [], values: new Map([["DHX_FIXTURE_AT_LIMIT", "y".repeat(16)]]) });
  });

  it("keeps the canary out of everything when the CLI fails with the value in its error", async () => {
    const fx = await createFixture();
    const recipe = fixtureRecipe("file-to-file.yml", { __OUT__: "/tmp" }).replace(
      /path: .*/,
      "path: /nonexistent/${SNOWFLAKE_PASSWORD}/metadata.json",
    );
    const run = await dispatchRun(fx, { recipe, debug: true });

    const result = await runTaskToEnd(taskEnvironment(fx, run));

    expect(result.code).toBe(1);
    const report = await readReport(fx, run);
    expect(report?.outcome).toBe("INGESTION_FAILED");
    expect(String(report?.logTail)).toContain("No such file or directory: '/nonexistent/");
    for (const text of await everythingWritten(fx, run, result)) expect(text).not.toContain(CANARY_SECRET_VALUE);
  });

  it("masks every value itself, even from a CLI that prints them, splits them across writes and reports them", async () => {
    const fx = await createFixture();
    const recipe = fixtureRecipe("file-to-file.yml", { __OUT__: "/tmp/${SNOWFLAKE_PASSWORD}/${DHX_FIXTURE_QUOTED}" });
    const run = await dispatchRun(fx, { recipe });
    const quoted = 'pa"ss\\word-7d1e';
    const env = taskEnvironment(fx, run, {
      DHX_DATAHUB_CLI: join(FIXTURES, "fake-datahub-echo.py"),
      DHX_FIXTURE_QUOTED: quoted,
    });

    const result = await runTaskToEnd(env);

    expect(result.code).toBe(1);
    const report = await readReport(fx, run);
    expect(report?.outcome).toBe("INGESTION_FAILED");
    expect(result.stdout).toContain("SNOWFLAKE_PASSWORD starts with ******** and ends there");
    expect(result.stdout).toContain("DHX_FIXTURE_QUOTED starts with ******** and ends there");
    expect(result.stderr).toContain("error: authentication failed for password ********");
    expect(JSON.parse(String(report?.structuredReport)).source.report.failures).toEqual([
      "could not log in with ********",
      "could not log in with ********",
    ]);
    for (const text of await everythingWritten(fx, run, result)) {
      expect(text).not.toContain(CANARY_SECRET_VALUE);
      expect(text).not.toContain(quoted);
      expect(text).not.toContain(JSON.stringify(quoted).slice(1, -1));
    }
  });
});
