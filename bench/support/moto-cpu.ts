import { readdirSync, readFileSync } from "node:fs";

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds used so far by this process's python children (moto), read from /proc. Linux only; undefined
 * elsewhere. Compared with wall time it says whether moto, which answers one request at a time, was the limit.
 */
export function motoCpuSeconds(): number | undefined {
  try {
    let ticks = 0;
    let found = false;
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      } catch {
        continue;
      }
      // pid (comm) state ppid ... utime(14) stime(15); comm may hold spaces, so split after the last ')'.
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      if (Number(fields[1]) !== process.pid || !comm.startsWith("python")) continue;
      ticks += Number(fields[11]) + Number(fields[12]);
      found = true;
    }
    return found ? ticks / CLOCK_TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}
