import { createIntakeDeps, loadIntakeConfig } from "../../functions/config/intake-config.js";
import { createIntakeHandler } from "../../functions/handlers/intake.js";
import type { AwsCall } from "../support/aws-call-counter.js";
import type { BenchStack } from "../support/local-executor.js";

export type IntakeIdle = {
  pollIntervalSeconds: number;
  /** What Lambda bills for one scheduled invocation: its own time plus the sleeps between polls. */
  billedMs: number;
  calls: AwsCall[];
  gmsRequests: number;
};

/**
 * One scheduled invocation of the GMS intake Lambda on an idle executor (nothing to pick up), against moto and
 * the stub GMS. Its sleeps between polls are not waited out: a virtual clock moves by them instead, and they
 * are added to the billed time, since the invocation stays up while it sleeps.
 */
export async function measureIntakeIdle(bench: BenchStack, pollIntervalSeconds: number): Promise<IntakeIdle> {
  const { executor, stack } = bench;
  const tokenSecretArn = stack.config.gms?.tokenSecretArn;
  if (tokenSecretArn === undefined) throw new Error("the bench stack has no GMS token secret");
  const config = loadIntakeConfig({
    DHX_STAGE: stack.config.stage,
    DHX_TABLE_NAME: stack.config.tableName,
    DHX_INTAKE_QUEUE_URL: stack.intakeQueueUrl,
    DHX_GMS_URL: executor.gms.url,
    DHX_GMS_TOKEN_SECRET_ARN: tokenSecretArn,
    DHX_INTAKE_POLL_INTERVAL_SECONDS: String(pollIntervalSeconds),
    DHX_INTAKE_LOOKBACK_MINUTES: "60",
    DHX_INTAKE_PUBLISH_POOLS: "false",
  });
  let sleptMs = 0;
  const deps = {
    ...createIntakeDeps(config, executor.clients, bench.deps.logger),
    now: () => Date.now() + sleptMs,
  };
  const handler = createIntakeHandler(deps, {
    pollIntervalSeconds: config.pollIntervalSeconds,
    publishPools: false,
    sleep: async (ms) => {
      sleptMs += ms;
    },
  });
  const gmsBefore = executor.gms.requests.length;
  executor.counter.take();
  executor.counter.enabled = true;
  const started = performance.now();
  await handler({}, { getRemainingTimeInMillis: () => 60_000 + 30_000 - sleptMs });
  const ownMs = performance.now() - started;
  executor.counter.enabled = false;
  return {
    pollIntervalSeconds,
    billedMs: ownMs + sleptMs,
    calls: executor.counter.take(),
    gmsRequests: executor.gms.requests.length - gmsBefore,
  };
}
