import { execFileSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The machine the figures came from: they mean little without it. */
export function describeMachine(): string[] {
  const python = join(ROOT, ".venv", "bin", "python");
  const run = (file: string, args: string[]) => {
    try {
      return execFileSync(file, args, { encoding: "utf8" }).trim();
    } catch {
      return "unknown";
    }
  };
  const cpu = cpus();
  return [
    `- CPU: ${cpu[0]?.model ?? "unknown"}, ${cpu.length} cores`,
    `- Memory: ${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `- Node ${process.version}, ${run(python, ["--version"])}, moto ${run(python, ["-c", "import moto; print(moto.__version__)"])}`,
    `- OS: ${process.platform} ${run("uname", ["-r"])}; load average at the end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(", ")} (other work on the machine slows both sides of every ratio)`,
  ];
}
