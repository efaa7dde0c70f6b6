/**
 * npm start (and `dhx local`): local mode in the foreground. Starts everything, submits the sample recipe, prints
 * where to look, and runs until Ctrl-C (SIGINT) or SIGTERM, then stops every run still going and moto.
 */
import { relative } from "node:path";
import { parseArgs } from "node:util";
import type { Output } from "../cli/cli-output.js";
import { resolveTarget } from "../cli/cli-target.js";
import { submitCommand } from "../cli/commands/submit-command.js";
import { ConfigError } from "../core/errors.js";
import { POOL_DEFAULTS } from "../core/pool.js";
import { DEFAULT_LOCAL_CONFIG, loadLocalModeConfig, SAMPLE_RECIPE, startLocalMode } from "./local-mode.js";
import { isProcessAlive, localModeDir, readLocalModeState, removeLocalModeState } from "./local-mode-state.js";

export const LOCAL_USAGE = `usage: npm start [-- options]   or   dhx local [options]

options:
  --config FILE    local mode's settings (default functions/local/local-mode.yml: stage, pools, reconcile interval)
  --no-sample      do not submit the sample recipe at start

environment:
  DATAHUB_GMS_URL, DATAHUB_GMS_TOKEN   report statuses to this GMS instead of the local status log
  DHX_LOCAL_DIR                        where local mode keeps its state and logs (default .local/local-mode)`;

export async function runLocalMode(
  argv: string[],
  env: Record<string, string | undefined>,
  out: Output,
  until: AbortSignal,
): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      config: { type: "string" },
      "no-sample": { type: "boolean", default: false },
      help: { type: "boolean" },
    },
  });
  if (values.help === true) {
    out.write(`${LOCAL_USAGE}\n`);
    return;
  }
  const dir = localModeDir(env);
  const running = readLocalModeState(dir);
  if (running !== undefined && isProcessAlive(running.pid)) {
    throw new ConfigError(`local mode is already running (pid ${running.pid}, ${dir}); stop it first (Ctrl-C)`);
  }
  const config = loadLocalModeConfig(values.config ?? DEFAULT_LOCAL_CONFIG);
  const gms = gmsFromEnv(env);
  const show = (path: string) => {
    const near = relative(process.cwd(), path);
    return near === "" ? "." : near.startsWith("..") ? path : near;
  };

  out.write("starting local mode: moto (the local AWS) on 127.0.0.1, the executor's resources, the handlers ...\n");
  const local = await startLocalMode({ dir, config, ...(gms === undefined ? {} : { gms }) });
  try {
    const { state } = local;
    out.write(`local mode is up: stage ${state.stage}, moto at ${state.endpoint}\n`);
    out.write(
      `  pools: ${config.pools.map((p, i) => `${p.id}${i === 0 ? " (default)" : ""}, ${workers(p.ingestionMaxWorkers ?? POOL_DEFAULTS.ingestionMaxWorkers)}`).join("; ")}\n`,
    );
    if (!values["no-sample"]) {
      const target = resolveTarget({}, { ...env, DHX_LOCAL_DIR: dir });
      const { executionRequestUrn, runId } = await submitCommand(target, { recipePath: SAMPLE_RECIPE });
      out.write(`  submitted the sample recipe (${show(SAMPLE_RECIPE)}): run ${runId}\n    ${executionRequestUrn}\n`);
    }
    out.write(
      [
        "where to look (in another shell):",
        "  npm run dhx -- status                    runs and pools: state, weight, Fargate size, waited, ran, why a run waits",
        "  npm run dhx -- watch                     the same, live",
        "  npm run dhx -- logs <run>                a run's output",
        "  npm run dhx -- submit <recipe.yml> --weight 0.5 --memory 2GiB",
        `  run logs:   ${show(state.logDir)}/`,
        state.statusLogPath === undefined
          ? `  statuses go to GMS at ${state.gmsUrl}`
          : `  what DataHub would be told: ${show(state.statusLogPath)}`,
        "Ctrl-C stops local mode and every run still going.",
        "",
      ].join("\n"),
    );
    await new Promise<void>((resolve) => {
      if (until.aborted) resolve();
      until.addEventListener("abort", () => resolve(), { once: true });
    });
    out.write("stopping local mode ...\n");
  } finally {
    await local.stop();
    removeLocalModeState(dir, process.pid);
  }
  out.write("local mode stopped\n");
}

function workers(n: number): string {
  return n === 1 ? "1 worker" : `${n} workers`;
}

function gmsFromEnv(env: Record<string, string | undefined>): { url: string; token: string } | undefined {
  const url = env.DATAHUB_GMS_URL;
  if (url === undefined || url === "") return undefined;
  const token = env.DATAHUB_GMS_TOKEN;
  if (token === undefined || token === "") {
    throw new ConfigError("DATAHUB_GMS_TOKEN is not set: local mode reports to DATAHUB_GMS_URL with that token");
  }
  return { url, token };
}

/**
 * Ctrl-C and SIGTERM start a clean stop. A terminal's Ctrl-C may arrive twice (from the terminal and relayed by
 * tsx), so repeats are ignored; a third forces the exit.
 */
export function stopSignal(): AbortSignal {
  const controller = new AbortController();
  let count = 0;
  const stop = () => {
    count += 1;
    if (count >= 3) process.exit(130);
    controller.abort();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return controller.signal;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"))) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  runLocalMode(process.argv.slice(2), process.env, process.stdout, stopSignal()).catch((error: unknown) => {
    process.stderr.write(`local mode failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
