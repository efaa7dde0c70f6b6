import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { parse as parseYaml } from "yaml";
import { type BenchOptions, fixed, median, ratio, type SectionReport, table } from "../support/report.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ENTRY_DIR = join(ROOT, "functions", "entry");

/** Values for the Lambdas' environment (serverless.yml provider.environment): shaped right, pointing nowhere. */
const DUMMY_ENV: Record<string, string> = {
  DHX_STAGE: "bench",
  DHX_TABLE_NAME: "dhx-bench-executor",
  DHX_INTAKE_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/dhx-bench-intake",
  DHX_DEAD_LETTER_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/dhx-bench-intake-dlq",
  DHX_ECS_CLUSTER: "arn:aws:ecs:us-east-1:123456789012:cluster/dhx-bench",
  DHX_TASK_DEFINITION: "arn:aws:ecs:us-east-1:123456789012:task-definition/dhx-bench-ingestion:1",
  DHX_TASK_CONTAINER_NAME: "ingestion",
  DHX_TASK_SUBNETS: "subnet-0123456789abcdef0",
  DHX_TASK_SECURITY_GROUPS: "sg-0123456789abcdef0",
  DHX_TASK_ASSIGN_PUBLIC_IP: "DISABLED",
  DHX_GMS_URL: "https://datahub.example.com/gms",
  DHX_GMS_TOKEN_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:dhx-bench-gms-token",
  DHX_RUN_LOG_GROUP: "/dhx-bench/runs",
  DHX_RUN_LOG_STREAM_PREFIX: "run",
  DHX_INTAKE_POLL_INTERVAL_SECONDS: "20",
  DHX_INTAKE_LOOKBACK_MINUTES: "60",
  DHX_INTAKE_PUBLISH_POOLS: "false",
};

/**
 * Section 4: each Lambda entry bundled as serverless.yml's esbuild settings do (ESM, minified, node22, SDK
 * included), its size, and the time to import it in a fresh Node process (median of many), beside the same
 * entry as plain `tsc` output loading its packages from node_modules.
 */
export async function measureColdStart(options: BenchOptions): Promise<SectionReport> {
  const samples = options.smoke ? 1 : 9;
  const work = mkdtempSync(join(tmpdir(), "dhx-bench-cold-"));
  const problems: string[] = [];
  try {
    const esbuildSettings = readEsbuildSettings();
    const entries = readdirSync(ENTRY_DIR)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => basename(f, ".ts"));
    const bundled = new Map<string, string>();
    for (const entry of entries) {
      const outfile = join(work, "bundled", `${entry}.mjs`);
      await build({ ...esbuildSettings, entryPoints: [join(ENTRY_DIR, `${entry}.ts`)], outfile, logLevel: "silent" });
      bundled.set(entry, outfile);
    }
    const unbundledRoot = join(work, "tsc");
    emitWithTsc(unbundledRoot);
    const env = lambdaEnv();

    const rows: (string | number)[][] = [];
    const importMs = { bundled: [] as number[], tsc: [] as number[] };
    for (const entry of entries) {
      const bundle = bundled.get(entry) as string;
      const plain = join(unbundledRoot, "out", "functions", "entry", `${entry}.js`);
      if (!existsSync(plain)) {
        problems.push(`tsc emitted no ${entry}.js`);
        continue;
      }
      const ours: number[] = [];
      const baseline: number[] = [];
      // Interleaved, so a slow moment of the machine hits both alike.
      for (let i = 0; i < samples; i++) {
        ours.push(await timeImport(bundle, env, problems));
        baseline.push(await timeImport(plain, env, problems));
      }
      options.progress(
        `cold start: ${entry} bundled ${fixed(median(ours), 0)} ms, tsc ${fixed(median(baseline), 0)} ms`,
      );
      importMs.bundled.push(median(ours));
      importMs.tsc.push(median(baseline));
      const bytes = statSync(bundle).size;
      rows.push([
        entry,
        `${fixed(bytes / 1024, 0)} KiB (${fixed(gzipSync(readFileSync(bundle)).length / 1024, 0)} KiB gzip)`,
        fixed(median(ours), 0),
        fixed(median(baseline), 0),
        ratio(median(baseline), median(ours)),
      ]);
    }
    const emitted = directoryBytes(join(unbundledRoot, "out", "functions"));
    const production = productionDependencyBytes();
    const markdown = [
      `Each functions/entry/*.ts bundled by esbuild with serverless.yml's settings (bundle, minify, keepNames, ` +
        `${esbuildSettings.format}, ${esbuildSettings.target}, the AWS SDK inside). Baseline: the same sources ` +
        "emitted by `tsc` (noEmit off) to a temp dir, importing their packages from node_modules. Import time is " +
        `measured inside a fresh \`node\` process (performance.now around \`await import()\`), median of ${samples} ` +
        "processes per variant, interleaved; the handler module's top level runs (config parsed, clients made).",
      "",
      ...table(
        ["function", "bundle size", "import, bundled (ms)", "import, tsc output (ms)", "ratio (tsc / bundled)"],
        rows,
      ),
      "",
      `Unbundled, the code is ${fixed(emitted / 1024, 0)} KiB of tsc output plus ${fixed(production / 1024 / 1024, 1)} MiB ` +
        "of production dependencies in node_modules that a Lambda zip would have to carry. Lambda's own cold start " +
        "(runtime init, zip download) comes on top of both.",
    ];
    return { title: "4. Cold start", markdown, problems };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

type EsbuildSettings = Parameters<typeof build>[0] & { format: "esm"; target: string };

/** serverless.yml's custom.esbuild block, so the bench bundles exactly as a deploy does. */
function readEsbuildSettings(): EsbuildSettings {
  const doc = parseYaml(readFileSync(join(ROOT, "serverless.yml"), "utf8")) as {
    custom: { esbuild: Record<string, unknown> };
  };
  const e = doc.custom.esbuild;
  return {
    bundle: e.bundle === true,
    minify: e.minify === true,
    keepNames: e.keepNames === true,
    sourcemap: e.sourcemap === true,
    target: String(e.target),
    platform: "node",
    format: "esm",
    mainFields: (e.mainFields as string[] | undefined) ?? ["module", "main"],
    ...(e.banner === undefined ? {} : { banner: e.banner as Record<string, string> }),
  };
}

function emitWithTsc(root: string): void {
  mkdirSync(root, { recursive: true });
  writeFileSync(
    join(root, "tsconfig.json"),
    JSON.stringify({
      extends: join(ROOT, "tsconfig.json"),
      compilerOptions: { noEmit: false, outDir: join(root, "out"), rootDir: ROOT, declaration: false },
      include: [join(ROOT, "functions", "**", "*.ts")],
    }),
  );
  // Plain output resolves its packages by walking up from its own directory.
  writeFileSync(join(root, "package.json"), JSON.stringify({ type: "module" }));
  symlinkSync(join(ROOT, "node_modules"), join(root, "node_modules"), "dir");
  // Type errors elsewhere in a working tree do not stop tsc from emitting; a missing entry is reported later.
  spawnSync(join(ROOT, "node_modules", ".bin", "tsc"), ["-p", join(root, "tsconfig.json")], { stdio: "ignore" });
}

function lambdaEnv(): Record<string, string> {
  const doc = parseYaml(readFileSync(join(ROOT, "serverless.yml"), "utf8")) as {
    provider: { environment: Record<string, unknown> };
    functions?: Record<string, { environment?: Record<string, unknown> }>;
  };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    POWERTOOLS_LOG_LEVEL: "SILENT",
    POWERTOOLS_METRICS_DISABLED: "true",
  };
  // Every variable serverless.yml sets, for the provider and for each function, plus the known ones it may not
  // list yet; a variable nobody knows makes the import fail, and the smoke run says so.
  const names = new Set([
    ...Object.keys(DUMMY_ENV),
    ...Object.keys(doc.provider.environment),
    ...Object.values(doc.functions ?? {}).flatMap((f) => Object.keys(f.environment ?? {})),
  ]);
  for (const name of names) env[name] = DUMMY_ENV[name] ?? "bench";
  return env;
}

const IMPORT_TIMER =
  "const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t));";

async function timeImport(file: string, env: Record<string, string>, problems: string[]): Promise<number> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", IMPORT_TIMER, pathToFileURL(file).href], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  const ms = Number.parseFloat(out);
  if (code !== 0 || !Number.isFinite(ms)) {
    // Minified bundles print whole lines of code around an error: keep one short line that names it.
    const line = err.split("\n").find((l) => /Error\b/.test(l) && l.length < 400) ?? err.slice(-300);
    problems.push(`importing ${file} failed (exit ${code}): ${line.trim().slice(0, 300)}`);
    return Number.NaN;
  }
  return ms;
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += directoryBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

/** Bytes of every non-dev package in package-lock.json (nested node_modules are their own entries). */
function productionDependencyBytes(): number {
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
  };
  let total = 0;
  for (const [path, info] of Object.entries(lock.packages)) {
    if (path === "" || info.dev === true || info.devOptional === true) continue;
    const dir = join(ROOT, path);
    if (existsSync(dir)) total += filesBytes(dir);
  }
  return total;
}

function filesBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += filesBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}
