import { type IntakeAction, planIntake, type ScannedExecutionRequest } from "../core/intake-plan.js";
import type { IntakeDeps } from "./intake-ports.js";

export type IntakePollReport = {
  pools: string[];
  scanned: number;
  pages: number;
  /** More pages were left than maxPages allowed: the next poll continues from the oldest again. */
  truncated: boolean;
  enqueued: { executionRequestUrn: string; kind: IntakeAction["kind"] }[];
  /** Claimed by an earlier or concurrent poll: not sent again. */
  alreadyClaimed: number;
  skipped: Record<string, number>;
  errors: { executionRequestUrn: string; error: string }[];
};

/**
 * One poll: list GMS's recent execution requests for the pools in the table, and put each new one on the
 * intake queue once (a conditional marker write before SendMessage). Dispatch is idempotent per URN, so a
 * message sent twice after a crash between send and confirmation costs nothing but a duplicate delivery.
 * A failure on one request is recorded and does not stop the others; a failing GMS read throws.
 */
export async function pollIntake(deps: IntakeDeps): Promise<IntakePollReport> {
  const pools = (await deps.pools.list()).map((pool) => pool.id);
  const report: IntakePollReport = {
    pools,
    scanned: 0,
    pages: 0,
    truncated: false,
    enqueued: [],
    alreadyClaimed: 0,
    skipped: {},
    errors: [],
  };
  if (pools.length === 0) {
    deps.logger.warn("no pools in the table: the intake has nothing to ask GMS for");
    return report;
  }
  const requests: ScannedExecutionRequest[] = [];
  const sinceMs = deps.now() - deps.settings.lookbackMs;
  let scrollId: string | undefined;
  do {
    const page = await deps.feed.scan({
      poolIds: pools,
      sinceMs,
      count: deps.settings.pageSize,
      ...(scrollId === undefined ? {} : { scrollId }),
    });
    report.pages++;
    requests.push(...page.requests);
    scrollId = page.requests.length === 0 ? undefined : page.scrollId;
  } while (scrollId !== undefined && report.pages < deps.settings.maxPages);
  report.truncated = scrollId !== undefined;
  report.scanned = requests.length;
  if (report.truncated) {
    deps.logger.warn("more execution requests than one poll reads; the rest wait for the next poll", {
      pages: report.pages,
      pageSize: deps.settings.pageSize,
    });
  }

  const plan = planIntake(requests, new Set(pools));
  for (const { reason } of plan.skipped) report.skipped[reason] = (report.skipped[reason] ?? 0) + 1;
  for (const action of plan.actions) {
    try {
      if (await enqueueOnce(deps, action)) {
        report.enqueued.push({ executionRequestUrn: action.executionRequestUrn, kind: action.kind });
      } else {
        report.alreadyClaimed++;
      }
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      report.errors.push({ executionRequestUrn: action.executionRequestUrn, error: message });
      deps.logger.error("could not enqueue the execution request; the next poll tries again", {
        executionRequestUrn: action.executionRequestUrn,
        pool: action.poolId,
        kind: action.kind,
        error: message,
      });
    }
  }
  return report;
}

async function enqueueOnce(deps: IntakeDeps, action: IntakeAction): Promise<boolean> {
  const marker = { executionRequestUrn: action.executionRequestUrn, kind: action.kind, poolId: action.poolId };
  const nowMs = deps.now();
  if (!(await deps.markers.claim(marker, nowMs, nowMs - deps.settings.claimLeaseMs))) return false;
  await deps.queue.send(action.body);
  await deps.markers.markSent(marker, deps.now());
  deps.logger.info(action.kind === "cancel" ? "KILL signal enqueued as a cancel" : "execution request enqueued", {
    executionRequestUrn: action.executionRequestUrn,
    pool: action.poolId,
  });
  return true;
}
