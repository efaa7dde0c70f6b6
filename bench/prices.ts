/**
 * Every list price the benchmarks use, in one place (us-east-1, on-demand, from
 * /work/shared/reference/aws-facts.md). Check AWS's price pages before quoting money; update here only.
 */
export const PRICES_USD = {
  fargateVcpuHour: 0.04048,
  fargateGbHour: 0.004445,
  lambdaPerRequest: 0.2 / 1_000_000,
  lambdaPerGbSecond: 0.0000166667,
  sqsPerRequest: 0.4 / 1_000_000,
  dynamodbPerWriteUnit: 0.625 / 1_000_000,
  dynamodbPerReadUnit: 0.125 / 1_000_000,
  /** AWS service events (ECS Task State Change) on the default bus are free. */
  eventBridgeServiceEvent: 0,
  /** ECS control-plane calls (RunTask, ListTasks, ...) have no per-call price. */
  ecsApiCall: 0,
} as const;

export const HOURS_PER_MONTH = 730;
export const MINUTES_PER_MONTH = HOURS_PER_MONTH * 60;

/** serverless.yml: provider.memorySize. */
export const LAMBDA_MEMORY_GB = 512 / 1024;
/** Lambda bills duration in 1 ms steps. */
export const LAMBDA_BILLING_STEP_MS = 1;

export function fargateHourlyUsd(vcpu: number, memoryGb: number): number {
  return vcpu * PRICES_USD.fargateVcpuHour + memoryGb * PRICES_USD.fargateGbHour;
}

/** The always-on worker DataHub's templates deploy, in its two sizes. */
export const ALWAYS_ON_WORKERS = [
  { name: "always-on worker 1 vCPU / 2 GB", vcpu: 1, memoryGb: 2 },
  { name: "always-on worker 2 vCPU / 8 GB", vcpu: 2, memoryGb: 8 },
] as const;
