import { z } from "zod";
import {
  type ExecutionRequestFeed,
  type ExecutionRequestPage,
  type ExecutorPoolPublisher,
  ExecutorPoolsUnsupportedError,
  type IngestionSourceRunner,
  type PoolState,
} from "../../app/intake-ports.js";
import { classifyGmsAnswer, type GmsOperation } from "./classify-gms-answer.js";
import { GMS_DEFAULT_TIMEOUT_MS } from "./gms-client.js";
import { GmsRejectedError } from "./gms-errors.js";
import {
  buildCreateExecutionRequestRequest,
  buildPublishPoolRequest,
  buildScrollExecutionRequestsRequest,
  GmsIntakeAspect,
  REMOTE_EXECUTOR_POOL_ENTITY,
} from "./gms-intake-requests.js";
import type { GmsRequest } from "./gms-requests.js";
import { exchangeWithGms, type GmsAnswer, type GmsClientOptions } from "./gms-transport.js";

const aspect = <T extends z.ZodType>(value: T) => z.object({ value }).optional();

/** GenericEntityScrollResultV3: {scrollId, entities: [{urn, <aspectName>: {value}}]} (docs/intake.md). */
const ScrollAnswer = z.object({
  scrollId: z.string().nullish(),
  entities: z.array(
    z.object({
      urn: z.string(),
      [GmsIntakeAspect.EXECUTION_REQUEST_INPUT]: aspect(z.record(z.string(), z.unknown())),
      [GmsIntakeAspect.EXECUTION_REQUEST_RESULT]: aspect(z.object({ status: z.string() })),
      [GmsIntakeAspect.EXECUTION_REQUEST_SIGNAL]: aspect(z.object({ signal: z.string() })),
    }),
  ),
});

const GraphqlAnswer = z.object({
  data: z.object({ createIngestionExecutionRequest: z.string().nullish() }).nullish(),
  errors: z.array(z.object({ message: z.string() })).optional(),
});

type Answer = GmsAnswer;

/** The intake's GMS calls: the entity scroll, GraphQL "run now" and pool publishing, with global fetch. */
export class GmsIntakeClient implements ExecutionRequestFeed, IngestionSourceRunner, ExecutorPoolPublisher {
  private readonly timeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly options: GmsClientOptions) {
    this.timeoutMs = options.timeoutMs ?? GMS_DEFAULT_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
  }

  async scan(query: Parameters<ExecutionRequestFeed["scan"]>[0]): Promise<ExecutionRequestPage> {
    const answer = await this.call("read", (token) =>
      buildScrollExecutionRequestsRequest(this.options.gmsUrl, token, query),
    );
    assertOk(answer, "read");
    const parsed = ScrollAnswer.safeParse(parseJson(answer));
    if (!parsed.success) {
      throw new GmsRejectedError(
        answer.status,
        "GMS's entity scroll answer is not {scrollId, entities: [...]}: check the GMS URL and that its OpenAPI is enabled",
      );
    }
    return {
      requests: parsed.data.entities.map((entity) => {
        const input = entity[GmsIntakeAspect.EXECUTION_REQUEST_INPUT]?.value;
        const status = entity[GmsIntakeAspect.EXECUTION_REQUEST_RESULT]?.value.status;
        const signal = entity[GmsIntakeAspect.EXECUTION_REQUEST_SIGNAL]?.value.signal;
        return {
          urn: entity.urn,
          ...(input === undefined ? {} : { input }),
          ...(status === undefined ? {} : { resultStatus: status }),
          ...(signal === undefined ? {} : { signal }),
        };
      }),
      ...(typeof parsed.data.scrollId === "string" ? { scrollId: parsed.data.scrollId } : {}),
    };
  }

  async createExecutionRequest(ingestionSourceUrn: string): Promise<string> {
    const answer = await this.call("write", (token) =>
      buildCreateExecutionRequestRequest(this.options.gmsUrl, token, ingestionSourceUrn),
    );
    assertOk(answer, "write");
    const parsed = GraphqlAnswer.safeParse(parseJson(answer));
    if (!parsed.success) throw new GmsRejectedError(answer.status, "GMS's GraphQL answer has an unexpected shape");
    const urn = parsed.data.data?.createIngestionExecutionRequest;
    if (parsed.data.errors !== undefined && parsed.data.errors.length > 0) {
      const said = parsed.data.errors.map((e) => e.message).join("; ");
      throw new GmsRejectedError(answer.status, `GMS refused createIngestionExecutionRequest: ${said.slice(0, 300)}`);
    }
    if (typeof urn !== "string") {
      throw new GmsRejectedError(answer.status, "GMS answered createIngestionExecutionRequest without a URN");
    }
    return urn;
  }

  async publishPool(poolId: string, info: { createdAtMs: number; state: PoolState }): Promise<void> {
    const answer = await this.call("write", (token) =>
      buildPublishPoolRequest(this.options.gmsUrl, token, { poolId, ...info, nowMs: this.now() }),
    );
    // A GMS whose entity registry lacks the entity answers 4xx (or 500 from Rest.li) naming it.
    const namesTheEntity =
      answer.body.includes(REMOTE_EXECUTOR_POOL_ENTITY) ||
      answer.body.includes(GmsIntakeAspect.REMOTE_EXECUTOR_POOL_INFO);
    if ([400, 404, 422, 500].includes(answer.status) && namesTheEntity) {
      throw new ExecutorPoolsUnsupportedError(
        `GMS does not know ${REMOTE_EXECUTOR_POOL_ENTITY}/${GmsIntakeAspect.REMOTE_EXECUTOR_POOL_INFO} (HTTP ${answer.status}: ${answer.body.slice(0, 200)})`,
      );
    }
    assertOk(answer, "write");
  }

  private call(operation: GmsOperation, build: (token: string) => GmsRequest): Promise<Answer> {
    return exchangeWithGms(
      {
        token: this.options.token,
        timeoutMs: this.timeoutMs,
        ...(this.options.logger === undefined ? {} : { logger: this.options.logger }),
      },
      operation,
      build,
    );
  }
}

function assertOk(answer: Answer, operation: GmsOperation): void {
  const verdict = classifyGmsAnswer(answer, operation);
  if (!verdict.ok) throw verdict.error;
}

function parseJson(answer: Answer): unknown {
  try {
    return JSON.parse(answer.body);
  } catch {
    throw new GmsRejectedError(answer.status, "GMS answered with something that is not JSON; check the GMS URL");
  }
}
