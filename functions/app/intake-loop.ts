import { pollsPerMinute } from "../core/intake-plan.js";
import { type IntakePollReport, pollIntake } from "./intake-poll.js";
import type { IntakeDeps } from "./intake-ports.js";

export type IntakeLoopReport = {
  polls: IntakePollReport[];
  /** Polls that threw (GMS unreachable, token refused...): logged, the next one tries again. */
  failures: string[];
  /** Polls not started because the invocation was running out of time. */
  skippedForTime: number;
};

/**
 * The polls of one scheduled invocation (every minute): the first at once, the others `intervalSeconds`
 * apart, never starting one with less than `marginMs` of the invocation left. `sleep` and `remainingMs` come
 * from the caller (the Lambda context; tests pass their own), so no test depends on real time.
 */
export async function runIntakePolls(
  deps: IntakeDeps,
  options: {
    intervalSeconds: number;
    remainingMs: () => number;
    marginMs: number;
    sleep: (ms: number) => Promise<void>;
  },
): Promise<IntakeLoopReport> {
  const count = pollsPerMinute(options.intervalSeconds);
  const report: IntakeLoopReport = { polls: [], failures: [], skippedForTime: 0 };
  const startMs = deps.now();
  for (let k = 0; k < count; k++) {
    const waitMs = startMs + k * options.intervalSeconds * 1000 - deps.now();
    if (waitMs > 0) {
      if (options.remainingMs() - waitMs < options.marginMs) {
        report.skippedForTime = count - k;
        break;
      }
      await options.sleep(waitMs);
    }
    try {
      report.polls.push(await pollIntake(deps));
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      report.failures.push(message);
      deps.logger.error("intake poll failed; the next poll tries again", { error: message });
    }
  }
  return report;
}
