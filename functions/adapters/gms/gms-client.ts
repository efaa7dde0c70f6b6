import { z } from "zod";
import type { ExecutionResultValue } from "../../core/execution-result.js";
import { classifyGmsAnswer, type GmsOperation } from "./classify-gms-answer.js";
import { GmsRejectedError } from "./gms-errors.js";
import type { DataHubStatusApi, ExecutorStatusReport, KillSignal } from "./gms-port.js";
import {
  buildExecutorStatusValue,
  buildGetAspectRequest,
  buildIngestProposalRequest,
  GmsAspect,
  GmsAspectClass,
  GmsEntity,
  type GmsRequest,
  remoteExecutorUrn,
} from "./gms-requests.js";
import { exchangeWithGms, type GmsClientOptions } from "./gms-transport.js";

export const GMS_DEFAULT_TIMEOUT_MS = 10_000;

const ExecutionResultAnswer = z.object({
  aspect: z.object({
    [GmsAspectClass.EXECUTION_REQUEST_RESULT]: z.object({
      status: z.string(),
      report: z.string().optional(),
      structuredReport: z
        .object({
          type: z.literal("RUN_INGEST"),
          serializedValue: z.string(),
          contentType: z.literal("application/json"),
        })
        .optional(),
      startTimeMs: z.number().optional(),
      durationMs: z.number().optional(),
    }),
  }),
});

const KillSignalAnswer = z.object({
  aspect: z.object({
    [GmsAspectClass.EXECUTION_REQUEST_SIGNAL]: z.object({
      signal: z.string(),
      createdAt: z.object({ time: z.number() }).optional(),
    }),
  }),
});

type Answer = { status: number; body: string };

/** DataHubStatusApi over GMS's Rest.li endpoints with global fetch. */
export class GmsClient implements DataHubStatusApi {
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly options: GmsClientOptions) {
    this.timeoutMs = options.timeoutMs ?? GMS_DEFAULT_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
  }

  async writeExecutionResult(executionRequestUrn: string, value: ExecutionResultValue): Promise<void> {
    await this.call({ operation: "write", executionRequestUrn }, (token) =>
      buildIngestProposalRequest(this.options.gmsUrl, token, {
        entityType: GmsEntity.EXECUTION_REQUEST,
        entityUrn: executionRequestUrn,
        aspectName: GmsAspect.EXECUTION_REQUEST_RESULT,
        value,
        systemMetadata: { lastObserved: this.now() },
      }),
    );
  }

  async readExecutionResult(executionRequestUrn: string): Promise<ExecutionResultValue | undefined> {
    const answer = await this.readAspect(executionRequestUrn, GmsAspect.EXECUTION_REQUEST_RESULT);
    if (answer === undefined) return undefined;
    const parsed = parseAnswer(ExecutionResultAnswer, answer, GmsAspectClass.EXECUTION_REQUEST_RESULT);
    const value = parsed.aspect[GmsAspectClass.EXECUTION_REQUEST_RESULT];
    return { ...value, report: value.report ?? "" };
  }

  async readKillSignal(executionRequestUrn: string): Promise<KillSignal | undefined> {
    const answer = await this.readAspect(executionRequestUrn, GmsAspect.EXECUTION_REQUEST_SIGNAL);
    if (answer === undefined) return undefined;
    const parsed = parseAnswer(KillSignalAnswer, answer, GmsAspectClass.EXECUTION_REQUEST_SIGNAL);
    const signal = parsed.aspect[GmsAspectClass.EXECUTION_REQUEST_SIGNAL];
    return {
      signal: signal.signal,
      ...(signal.createdAt === undefined ? {} : { createdAtMs: signal.createdAt.time }),
    };
  }

  async writeExecutorStatus(stage: string, poolId: string, status: ExecutorStatusReport): Promise<void> {
    const value = buildExecutorStatusValue(poolId, status);
    await this.call({ operation: "write", pool: poolId }, (token) =>
      buildIngestProposalRequest(this.options.gmsUrl, token, {
        entityType: GmsEntity.REMOTE_EXECUTOR,
        entityUrn: remoteExecutorUrn(stage, poolId),
        aspectName: GmsAspect.REMOTE_EXECUTOR_STATUS,
        value,
        systemMetadata: { lastObserved: this.now() },
      }),
    );
  }

  /** The aspect's answer, or undefined on 404 (no such aspect). */
  private readAspect(executionRequestUrn: string, aspectName: string): Promise<Answer | undefined> {
    return this.call(
      { operation: "read", executionRequestUrn },
      (token) => buildGetAspectRequest(this.options.gmsUrl, token, executionRequestUrn, aspectName),
      { absentOn404: true },
    );
  }

  private async call(
    context: { operation: GmsOperation; executionRequestUrn?: string; pool?: string },
    build: (token: string) => GmsRequest,
    options: { absentOn404?: boolean } = {},
  ): Promise<Answer | undefined> {
    const { operation } = context;
    const answer = await exchangeWithGms(
      {
        token: this.options.token,
        timeoutMs: this.timeoutMs,
        ...(this.options.logger === undefined ? {} : { logger: this.options.logger }),
      },
      operation,
      build,
      context,
    );
    if (options.absentOn404 === true && answer.status === 404) return undefined;
    const verdict = classifyGmsAnswer(answer, operation);
    if (!verdict.ok) throw verdict.error;
    return answer;
  }
}

function parseAnswer<T>(schema: z.ZodType<T>, answer: Answer, aspectClass: string): T {
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    throw new GmsRejectedError(
      answer.status,
      `GMS answered the read with something that is not JSON; check the GMS URL`,
    );
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new GmsRejectedError(answer.status, `GMS's answer has no ${aspectClass} value of the expected shape`);
  }
  return parsed.data;
}
