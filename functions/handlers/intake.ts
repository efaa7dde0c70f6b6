import type { Context } from "aws-lambda";
import { type IntakeLoopReport, runIntakePolls } from "../app/intake-loop.js";
import type { ExecutorPoolPublisher, IntakeDeps } from "../app/intake-ports.js";
import { type PublishPoolsReport, publishPools } from "../app/intake-publish-pools.js";

/** Never start a poll with less than this left: a poll is a scroll plus a few writes and sends. */
export const INTAKE_POLL_MARGIN_MS = 5_000;

/** Every poll of an invocation failed: surfaced as a Lambda error so the intake-errors alarm sees it. */
export class IntakeUnavailableError extends Error {
  override readonly name = "IntakeUnavailableError" as const;
}

export type IntakeInvocationReport = IntakeLoopReport & { publish?: PublishPoolsReport };

/**
 * The scheduled intake Lambda (every minute): publishes the pools to GMS once per container when asked to,
 * then polls GMS as often as the interval allows within the minute.
 */
export function createIntakeHandler(
  deps: IntakeDeps & { gms: ExecutorPoolPublisher },
  options: {
    pollIntervalSeconds: number;
    publishPools: boolean;
    sleep?: (ms: number) => Promise<void>;
  },
) {
  let published = false;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  return async (
    _event: unknown,
    context: Pick<Context, "getRemainingTimeInMillis">,
  ): Promise<IntakeInvocationReport> => {
    let publish: PublishPoolsReport | undefined;
    if (options.publishPools && !published) {
      publish = await publishPools({ pools: deps.pools, publisher: deps.gms, now: deps.now, logger: deps.logger });
      // Unsupported is final for this GMS; failures are retried by the next container.
      published = publish.kind === "unsupported" || publish.failed.length === 0;
    }
    const report = await runIntakePolls(deps, {
      intervalSeconds: options.pollIntervalSeconds,
      remainingMs: () => context.getRemainingTimeInMillis(),
      marginMs: INTAKE_POLL_MARGIN_MS,
      sleep,
    });
    deps.logger.info("intake pass done", {
      polls: report.polls.length,
      failures: report.failures.length,
      enqueued: report.polls.reduce((n, p) => n + p.enqueued.length, 0),
      errors: report.polls.reduce((n, p) => n + p.errors.length, 0),
      skippedForTime: report.skippedForTime,
    });
    if (report.polls.length === 0 && report.failures.length > 0) {
      throw new IntakeUnavailableError(
        `all ${report.failures.length} polls of this invocation failed; the first: ${report.failures[0]}`,
      );
    }
    return { ...report, ...(publish === undefined ? {} : { publish }) };
  };
}
