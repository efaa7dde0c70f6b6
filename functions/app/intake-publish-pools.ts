import type { Logger } from "@aws-lambda-powertools/logger";
import { type ExecutorPoolPublisher, ExecutorPoolsUnsupportedError } from "./intake-ports.js";
import type { Clock, PoolStore } from "./ports.js";

export type PublishPoolsReport =
  | { kind: "published"; pools: string[]; failed: { poolId: string; error: string }[] }
  | { kind: "unsupported"; message: string };

/**
 * Makes this stage's pools visible in DataHub as dataHubRemoteExecutorPool entities with state READY, where
 * the GMS has that entity (DataHub Cloud, recent open-source models). A GMS without it says so on the first
 * pool; that is reported once as "unsupported" rather than as an error per pool.
 */
export async function publishPools(deps: {
  pools: Pick<PoolStore, "list">;
  publisher: ExecutorPoolPublisher;
  now: Clock;
  logger: Logger;
}): Promise<PublishPoolsReport> {
  const published: string[] = [];
  const failed: { poolId: string; error: string }[] = [];
  for (const pool of await deps.pools.list()) {
    try {
      await deps.publisher.publishPool(pool.id, { createdAtMs: deps.now(), state: { status: "READY" } });
      published.push(pool.id);
    } catch (error) {
      if (error instanceof ExecutorPoolsUnsupportedError) {
        deps.logger.warn("this GMS does not support executor pools; pools are not published", {
          error: error.message,
        });
        return { kind: "unsupported", message: error.message };
      }
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      failed.push({ poolId: pool.id, error: message });
      deps.logger.error("could not publish the pool to GMS", { pool: pool.id, error: message });
    }
  }
  return { kind: "published", pools: published, failed };
}
