import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { inflateRawSync } from "node:zlib";
import { describe, expect, inject, it } from "vitest";
import { packageDir, readTemplate, resource } from "./packaged-template.js";

type Sizes = {
  name: string;
  artifact: string;
  zippedBytes: number;
  unzippedBytes: number;
  files: { name: string; bytes: number }[];
};
const { bundleSizes } = createRequire(import.meta.url)("../../functions/config/stages/report-bundle-sizes.cjs") as {
  bundleSizes: (serviceDir: string, functions: Record<string, { package?: { artifact?: string } }>) => Sizes[];
};

/** Budgets with headroom over today's figures (docs/deploy.md): a bundle past them needs a look, not a shrug. */
const MAX_ZIPPED_BYTES = 512 * 1024;
const MAX_UNZIPPED_BYTES = 1.5 * 1024 * 1024;

const FUNCTIONS = {
  dispatch: "DispatchLambdaFunction",
  taskStateChange: "TaskStateChangeLambdaFunction",
  reconcile: "ReconcileLambdaFunction",
  intake: "IntakeLambdaFunction",
} as const;

const sizes = bundleSizes(
  packageDir(),
  Object.fromEntries(Object.keys(FUNCTIONS).map((name) => [name, { package: { artifact: `${name}.zip` } }])),
);

describe("function bundles", () => {
  it("the package run printed each function's bundle size", () => {
    const log = inject("stackPackageLog");
    expect(log).toContain("Bundle sizes (zipped / unzipped):");
    for (const name of Object.keys(FUNCTIONS))
      expect(log).toMatch(new RegExp(`${name}\\s+[\\d.]+ KiB /\\s+[\\d.]+ KiB`));
  });

  it.each(sizes)("$name: one minified ESM file, AWS SDK included, within the size budget", (bundle) => {
    console.log(
      `${bundle.name}: ${(bundle.zippedBytes / 1024).toFixed(1)} KiB zipped, ${(bundle.unzippedBytes / 1024).toFixed(1)} KiB unzipped`,
    );
    expect(bundle.files.map((f) => f.name)).toHaveLength(1);
    expect(bundle.files[0]?.name).toMatch(/^functions\/entry\/[a-z-]+\.mjs$/);
    expect(bundle.zippedBytes).toBeLessThanOrEqual(MAX_ZIPPED_BYTES);
    expect(bundle.unzippedBytes).toBeLessThanOrEqual(MAX_UNZIPPED_BYTES);
  });

  it.each(Object.entries(FUNCTIONS))(
    "%s: the bundle loads on Node and exports the handler serverless.yml names",
    (name, id) => {
      const handler = resource(readTemplate(), id).Properties.Handler as string;
      const [file, exportName] = [
        handler.slice(0, handler.lastIndexOf(".")),
        handler.slice(handler.lastIndexOf(".") + 1),
      ];
      const dir = mkdtempSync(join(tmpdir(), `dhx-bundle-${name}-`));
      const { name: entryName, contents } = onlyZipEntry(join(packageDir(), `${name}.zip`));
      expect(entryName).toBe(`${file}.mjs`);
      mkdirSync(join(dir, dirname(entryName)), { recursive: true });
      writeFileSync(join(dir, entryName), contents);
      // What Lambda does at cold start: import the file with the function's configuration in the environment.
      const script = `const m = await import(${JSON.stringify(join(dir, `${file}.mjs`))}); console.log(typeof m[${JSON.stringify(exportName)}]);`;
      const printed = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
        env: { PATH: process.env.PATH ?? "", NODE_NO_WARNINGS: "1", ...LAMBDA_ENV },
        encoding: "utf8",
      });
      expect(printed.trim().split("\n").pop()).toBe("function");
    },
  );
});

/**
 * The first (here: only) file of a zip. Sizes come from the central directory: the local header may leave
 * them 0 when a data descriptor follows the data.
 */
function onlyZipEntry(file: string): { name: string; contents: Buffer } {
  const zip = readFileSync(file);
  const endOfDirectory = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const directory = zip.readUInt32LE(endOfDirectory + 16);
  const method = zip.readUInt16LE(directory + 10);
  const compressedSize = zip.readUInt32LE(directory + 20);
  const nameLength = zip.readUInt16LE(directory + 28);
  const name = zip.toString("utf8", directory + 46, directory + 46 + nameLength);
  const local = zip.readUInt32LE(directory + 42);
  const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
  const data = zip.subarray(start, start + compressedSize);
  return { name, contents: method === 0 ? data : inflateRawSync(data) };
}

const LAMBDA_ENV = {
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  POWERTOOLS_LOG_LEVEL: "SILENT",
  POWERTOOLS_METRICS_DISABLED: "true",
  POWERTOOLS_SERVICE_NAME: "DataHubServerlessExecutor",
  DHX_STAGE: "ci",
  DHX_TABLE_NAME: "dhx-ci-executor",
  DHX_INTAKE_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/dhx-ci-intake",
  DHX_DEAD_LETTER_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/dhx-ci-intake-dlq",
  DHX_ECS_CLUSTER: "arn:aws:ecs:us-east-1:123456789012:cluster/dhx-ci-cluster",
  DHX_TASK_DEFINITION: "arn:aws:ecs:us-east-1:123456789012:task-definition/dhx-ci-ingestion:1",
  DHX_TASK_CONTAINER_NAME: "ingestion",
  DHX_INTAKE_POLL_INTERVAL_SECONDS: "15",
  DHX_INTAKE_LOOKBACK_MINUTES: "1440",
  DHX_INTAKE_PUBLISH_POOLS: "false",
  DHX_TASK_SUBNETS: "subnet-0123456789abcdef0",
  DHX_TASK_SECURITY_GROUPS: "sg-0123456789abcdef0",
  DHX_TASK_ASSIGN_PUBLIC_IP: "DISABLED",
  DHX_GMS_URL: "https://ci.acryl.io/gms",
  DHX_GMS_TOKEN_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:datahub-executor/ci/gms-token-AbC123",
  DHX_RUN_LOG_GROUP: "/dhx-ci/runs",
  DHX_RUN_LOG_STREAM_PREFIX: "run",
};
