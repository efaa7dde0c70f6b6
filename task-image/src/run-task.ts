import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Writable } from "node:stream";
import type { Logger } from "@aws-lambda-powertools/logger";
import { type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import {
  buildRunReportPut,
  RUN_REPORT_LIMITS,
  type RunReport,
  RunReportOutcome,
} from "../../functions/adapters/dynamodb/report-requests.js";
import type { SecretLookup } from "../../functions/adapters/secrets-manager/secrets-manager-secret-reader.js";
import { findSecretReferences } from "../../functions/core/secret-references.js";
import { TaskExitCode } from "../../functions/core/task-exit.js";
import type { CancelSignal } from "./cancel-signal.js";
import { chooseCli } from "./choose-cli.js";
import { classifyIngestionEnd } from "./classify-exit.js";
import { installCli } from "./install-cli.js";
import { SecretMasker } from "./mask-secrets.js";
import { OutputTail } from "./output-tail.js";
import { type RunInput, readRunInput } from "./read-run-input.js";
import { resolveSecrets } from "./resolve-secrets.js";
import { runIngestion } from "./run-ingestion.js";
import { SetupFailedError } from "./setup-failed-error.js";
import type { TaskConfig } from "./task-config.js";

export type TaskDeps = {
  config: TaskConfig;
  doc: DynamoDBDocumentClient;
  secretsManager: { read(name: string): Promise<SecretLookup> };
  /** The container's environment: a secret source, and the base of the CLI's environment. */
  environment: Record<string, string | undefined>;
  stdout: Writable;
  stderr: Writable;
  logger: Logger;
  cancel: CancelSignal;
  now: () => number;
};

/**
 * The task's whole life: read the run, resolve its secrets, pick the CLI, run it under the memory limit,
 * leave the report item, and return the exit code (TaskExitCode) that says the same.
 */
export async function runTask(deps: TaskDeps): Promise<TaskExitCode> {
  const { config, logger } = deps;
  const startedAtMs = deps.now();
  const tail = new OutputTail(RUN_REPORT_LIMITS.logTailBytes);
  let masker = new SecretMasker([]);
  let memoryLimitKiB: number | undefined;
  let cliVersion: string | undefined;
  let workDir: string | undefined;
  const finish = async (
    ended: { exitCode: TaskExitCode; outcome: RunReportOutcome; message: string },
    structuredReport?: string,
  ): Promise<TaskExitCode> => {
    const report: RunReport = {
      runId: config.runId,
      executionRequestUrn: config.executionRequestUrn,
      launchAttempt: config.launchAttempt,
      exitCode: ended.exitCode,
      outcome: ended.outcome,
      message: masker.mask(ended.message),
      ...(structuredReport === undefined ? {} : { structuredReport }),
      logTail: tail.text(),
      ...(cliVersion === undefined ? {} : { cliVersion }),
      ...(memoryLimitKiB === undefined ? {} : { memoryLimitKiB }),
      startedAtMs,
      finishedAtMs: deps.now(),
    };
    logger.info("run finished", { outcome: report.outcome, exitCode: report.exitCode, reason: report.message });
    try {
      await deps.doc.send(new PutCommand(buildRunReportPut(config.tableName, report)));
    } catch (error) {
      // The exit code still tells the completion handler how the run ended.
      logger.error("report not written", { error: masker.mask(describe(error)) });
    }
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
    return report.exitCode;
  };
  const setupFailed = (message: string) =>
    finish({ exitCode: TaskExitCode.SETUP_FAILED, outcome: RunReportOutcome.SETUP_FAILED, message });
  const cancelledBeforeStart = () =>
    finish({
      exitCode: TaskExitCode.CANCELLED,
      outcome: RunReportOutcome.CANCELLED,
      message: "cancelled: the task was asked to stop (SIGTERM) before the ingestion started",
    });

  try {
    const input = await readRunInput(deps.doc, config);
    memoryLimitKiB = input.memoryLimitKiB;
    logger.info("run read", { task: input.task, memoryLimitKiB: input.memoryLimitKiB, askedVersion: input.version });

    const names = findSecretReferences(input.recipe);
    const secrets = await resolveSecrets(names, {
      environment: deps.environment,
      fileBaseDir: config.fileSecretBaseDir,
      fileMaxBytes: config.fileSecretMaxBytes,
      secretsManager: deps.secretsManager,
      secretPrefix: config.secretPrefix,
    });
    masker = new SecretMasker(secrets.values.values());
    logger.info("secrets resolved", {
      found: Object.fromEntries(secrets.sources),
      unresolved: names.filter((n) => !secrets.values.has(n)),
    });
    if (secrets.problems.length > 0) return await setupFailed(secrets.problems.join("; "));

    const choice = chooseCli(input.version, config.imageCli, {
      installs: config.cliInstalls,
      cacheDir: config.cliCacheDir,
      venvExists: (dir) => existsSync(join(dir, ".dhx-installed")),
    });
    if (choice.kind === "refused") return await setupFailed(choice.problem);
    cliVersion = choice.version;
    logger.info("cli chosen", { cli: choice.kind, version: choice.version });
    if (choice.kind === "install") {
      await mkdir(config.cliCacheDir, { recursive: true });
      const installed = await installCli(choice, config.python, { stdout: deps.stdout, tail }, deps.cancel);
      if (deps.cancel.requested) return await cancelledBeforeStart();
      if (!installed.ok) return await setupFailed(installed.problem);
    }
    // A SIGTERM from here on reaches the group through runIngestion, even one that came just before the spawn.
    if (deps.cancel.requested) return await cancelledBeforeStart();

    workDir = await mkdtemp(join(tmpdir(), "dhx-run-"));
    const reportPath = join(workDir, "report.json");
    const ended = await runIngestion(
      {
        executable: choice.executable,
        args: cliArgs(input, reportPath),
        env: childEnvironment(deps.environment, input.extraEnv),
        stdin: recipeEnvelope(input.recipe, secrets.values),
        memoryLimitBytes: input.memoryLimitKiB * 1024,
        graceMs: config.cancelGraceSeconds * 1000,
      },
      { stdout: deps.stdout, stderr: deps.stderr, masker, tail },
      deps.cancel,
    );
    const classified = classifyIngestionEnd({
      ...ended,
      graceSeconds: config.cancelGraceSeconds,
      memoryLimitKiB: input.memoryLimitKiB,
      fargate: input.fargate,
      task: input.task,
      executable: choice.executable,
    });
    const structured = await readStructuredReport(reportPath, masker, classified.outcome);
    return await finish({ ...classified, message: `${classified.message}${structured.note}` }, structured.report);
  } catch (error) {
    if (error instanceof SetupFailedError) return await setupFailed(error.message);
    return await setupFailed(`the task failed before the ingestion ended: ${describe(error)}`);
  }
}

function cliArgs(input: RunInput, reportPath: string): string[] {
  return [
    ...(input.debug ? ["--debug"] : []),
    "ingest",
    "run",
    "-c",
    "-",
    "--report-to",
    reportPath,
    ...(input.task === "TEST_CONNECTION" ? ["--test-source-connection"] : []),
  ];
}

/**
 * The CLI's stdin envelope: the recipe as written, and the resolved values beside it. The CLI substitutes
 * them itself (and registers them for its own masking), so values reach it neither through the
 * environment nor on disk, and a `$` inside a value is never expanded again.
 */
export function recipeEnvelope(recipe: string, secrets: ReadonlyMap<string, string>): string {
  return JSON.stringify({ __recipe_yaml__: recipe, __secrets__: Object.fromEntries(secrets) });
}

/** The container's environment plus the run's extra_env_vars (theirs win: they are the run's choice). */
export function childEnvironment(
  base: Record<string, string | undefined>,
  extra: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value;
  return {
    // Output reaches CloudWatch as it is written; few malloc arenas keep the address space (RLIMIT_AS)
    // close to what is really used.
    PYTHONUNBUFFERED: "1",
    MALLOC_ARENA_MAX: "2",
    ...env,
    ...extra,
  };
}

/** Runs that ended on their own terms are expected to have a report: its absence is worth a word. */
const REPORT_EXPECTED: readonly RunReportOutcome[] = [RunReportOutcome.SUCCESS, RunReportOutcome.INGESTION_FAILED];

async function readStructuredReport(
  path: string,
  masker: SecretMasker,
  outcome: RunReportOutcome,
): Promise<{ report?: string; note: string }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return { note: REPORT_EXPECTED.includes(outcome) ? "; the CLI wrote no structured report" : "" };
  }
  const masked = masker.mask(text);
  const bytes = Buffer.byteLength(masked, "utf8");
  if (bytes > RUN_REPORT_LIMITS.structuredReportBytes) {
    return {
      note: `; the structured report (${bytes} bytes) is over the ${RUN_REPORT_LIMITS.structuredReportBytes}-byte limit and was left out`,
    };
  }
  return { report: masked, note: "" };
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
