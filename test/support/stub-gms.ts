import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";

/**
 * A stub of DataHub's GMS on 127.0.0.1: just enough of Rest.li's /aspects for the executor, strict about the
 * shapes of datahub-protocol.md (§1, §3, §4), and enforcing GMS's own rule that a terminal result
 * (SUCCESS, CANCELLED, ABORTED, DUPLICATE) cannot be overwritten.
 */

export type RecordedRequest = {
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined for GET or a body that is not JSON). */
  body: unknown;
  bodyBytes: number;
  /** What the stub answered. */
  status: number;
};

export type Violation = { path: string; problem: string };
export type Refusal = { urn: string; aspectName: string; problem: string };

export type StubGms = {
  /** Base URL, e.g. http://127.0.0.1:39017 (no trailing slash). */
  url: string;
  requests: RecordedRequest[];
  /** Bodies that break the protocol: a correct executor leaves this empty. */
  violations: Violation[];
  /** Writes GMS refused with 422 (after a terminal status). */
  refusals: Refusal[];
  setDown(down: boolean): void;
  /** The next n requests get this status (before any other check). */
  failNext(n: number, status: number): void;
  /** The next n requests get no answer at all until close(). */
  hangNext(n: number): void;
  /** From now on only "Bearer <token>" is accepted (401 otherwise). */
  requireToken(token: string | undefined): void;
  putKillSignal(urn: string, options?: { createdAtMs?: number; actor?: string }): void;
  /** The stored value of one aspect (parsed), if any. */
  aspect(urn: string, aspectName: string): unknown;
  /** Statuses of the accepted dataHubExecutionRequestResult writes, in order. */
  resultWrites(urn: string): string[];
  /**
   * An execution request as GMS creates it when the UI's "Run" is clicked or a schedule fires: its
   * dataHubExecutionRequestInput (shape of ExecutionRequestInput.pdl), listed by the OpenAPI v3 entity scroll.
   */
  createExecutionRequest(request: StubExecutionRequest): string;
  /** An ingestion source for GraphQL createIngestionExecutionRequest (recipe as the JSON object GMS stores). */
  putIngestionSource(
    urn: string,
    source: { recipe: Record<string, unknown>; executorId: string; version?: string },
  ): void;
  /** false: the entity registry has no dataHubRemoteExecutorPool (older open-source GMS), writes to it fail. */
  setExecutorPoolsSupported(supported: boolean): void;
  close(): Promise<void>;
};

export type StubExecutionRequest = {
  id?: string;
  executorId: string;
  /** Epoch ms; GMS sets it when it creates the request. */
  requestedAt?: number;
  task?: string;
  args?: Record<string, string>;
  source?: { type: string; ingestionSource?: string };
};

/** The aspects the entity scroll can return for dataHubExecutionRequest, by name. */
const EXECUTION_REQUEST_ASPECTS = [
  "dataHubExecutionRequestInput",
  "dataHubExecutionRequestResult",
  "dataHubExecutionRequestSignal",
] as const;

/** The only query shape the stub understands: the intake's (executorId list and a requestTimeMs bound). */
const SCROLL_QUERY = /^executorId:\(("[^"]+"(?: OR "[^"]+")*)\) AND requestTimeMs:>=(\d+)$/;

const TERMINAL_FOR_GMS = new Set(["SUCCESS", "CANCELLED", "ABORTED", "DUPLICATE"]);
const KNOWN_STATUSES = ["RUNNING", "SUCCESS", "FAILURE", "CANCELLED", "TIMEOUT", "ABORTED", "DUPLICATE"] as const;

const long = z.number().int().refine(Number.isSafeInteger, "must be a long");
// Anything above 1e11 is a millisecond timestamp (1e11 s is the year 5138); below 1e11 ms is 1973.
const epochMs = long.refine((n) => n >= 1e11, "must be epoch milliseconds");
const epochSeconds = long.refine((n) => n > 0 && n < 1e11, "must be epoch seconds, not milliseconds");
const urn = z.string().regex(/^urn:li:[A-Za-z]+:.+/, "must be a urn:li: URN");

/** The aspects the executor may write or read, with their Pegasus class and entity (datahub-protocol.md). */
const ASPECTS: Record<string, { entityType: string; className: string; value: z.ZodType }> = {
  dataHubExecutionRequestResult: {
    entityType: "dataHubExecutionRequest",
    className: "com.linkedin.execution.ExecutionRequestResult",
    value: z.strictObject({
      status: z.enum(KNOWN_STATUSES),
      report: z.string().optional(),
      structuredReport: z
        .strictObject({ type: z.string(), serializedValue: z.string(), contentType: z.string() })
        .optional(),
      startTimeMs: epochMs.optional(),
      durationMs: long.nonnegative().optional(),
    }),
  },
  dataHubExecutionRequestSignal: {
    entityType: "dataHubExecutionRequest",
    className: "com.linkedin.execution.ExecutionRequestSignal",
    value: z.strictObject({
      signal: z.string(),
      executorId: z.string().optional(),
      createdAt: z.strictObject({ time: epochMs, actor: urn }),
    }),
  },
  dataHubExecutionRequestInput: {
    entityType: "dataHubExecutionRequest",
    className: "com.linkedin.execution.ExecutionRequestInput",
    value: z.strictObject({
      task: z.string(),
      args: z.record(z.string(), z.string()),
      executorId: z.string(),
      source: z.strictObject({ type: z.string(), ingestionSource: urn.optional() }),
      requestedAt: epochMs,
      actorUrn: urn.optional(),
      attempts: long.optional(),
    }),
  },
  dataHubRemoteExecutorPoolInfo: {
    entityType: "dataHubRemoteExecutorPool",
    className: "com.linkedin.executorpool.RemoteExecutorPoolInfo",
    value: z.strictObject({
      createdAt: epochMs,
      creator: urn.optional(),
      queueUrl: z.string().optional(),
      isEmbedded: z.boolean().optional(),
      state: z
        .strictObject({
          status: z.enum(["PROVISIONING_PENDING", "PROVISIONING_IN_PROGRESS", "PROVISIONING_FAILED", "READY"]),
          message: z.string().optional(),
        })
        .optional(),
    }),
  },
  dataHubRemoteExecutorStatus: {
    entityType: "dataHubRemoteExecutor",
    className: "com.linkedin.executor.RemoteExecutorStatus",
    value: z.strictObject({
      poolName: z.string(),
      executorReleaseVersion: z.string(),
      executorAddress: z.string(),
      executorHostname: z.string(),
      executorUptime: z.number(),
      executorExpired: z.boolean(),
      executorStopped: z.boolean(),
      executorEmbedded: z.boolean(),
      executorInternal: z.boolean(),
      logDeliveryEnabled: z.boolean(),
      reportedAt: epochSeconds,
    }),
  },
};

const IngestProposalBody = z.strictObject({
  proposal: z.strictObject({
    entityType: z.string(),
    entityUrn: urn,
    changeType: z.literal("UPSERT"),
    aspectName: z.string(),
    aspect: z.strictObject({
      contentType: z.literal("application/json"),
      value: z.string({ error: "aspect.value must be a JSON string" }),
    }),
    systemMetadata: z
      .strictObject({ lastObserved: epochMs.optional(), properties: z.record(z.string(), z.string()).optional() })
      .optional(),
  }),
  async: z.enum(["true", "false"]).optional(),
});

export async function startStubGms(): Promise<StubGms> {
  const requests: RecordedRequest[] = [];
  const violations: Violation[] = [];
  const refusals: Refusal[] = [];
  const store = new Map<string, unknown>();
  const writes = new Map<string, string[]>();
  const hanging = new Set<ServerResponse>();
  let down = false;
  let failures: { remaining: number; status: number } = { remaining: 0, status: 500 };
  let hangs = 0;
  let token: string | undefined;
  let poolsSupported = true;
  const ingestionSources = new Map<string, { recipe: Record<string, unknown>; executorId: string; version?: string }>();
  /** URNs of execution requests, in creation order. */
  const executionRequests: string[] = [];
  const createExecutionRequest = (request: StubExecutionRequest): string => {
    const entityUrn = `urn:li:dataHubExecutionRequest:${request.id ?? randomUUID()}`;
    const input = {
      task: request.task ?? "RUN_INGEST",
      args: request.args ?? {},
      executorId: request.executorId,
      source: request.source ?? { type: "MANUAL_INGESTION_SOURCE" },
      requestedAt: request.requestedAt ?? Date.now(),
      actorUrn: "urn:li:corpuser:admin",
    };
    const checked = ASPECTS.dataHubExecutionRequestInput?.value.parse(input);
    store.set(key(entityUrn, "dataHubExecutionRequestInput"), checked);
    executionRequests.push(entityUrn);
    return entityUrn;
  };

  const key = (entityUrn: string, aspectName: string) => `${entityUrn}\u0000${aspectName}`;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const text = raw.toString("utf8");
      let body: unknown;
      try {
        body = text === "" ? undefined : JSON.parse(text);
      } catch {
        body = undefined;
      }
      const path = req.url ?? "/";
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        path,
        headers: req.headers,
        body,
        bodyBytes: raw.length,
        status: 0,
      };
      requests.push(recorded);
      const answer = (status: number, payload: unknown) => {
        recorded.status = status;
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(payload));
      };
      const violation = (problem: string) => {
        violations.push({ path, problem });
        answer(400, { message: problem, status: 400 });
      };

      if (hangs > 0) {
        hangs--;
        hanging.add(res);
        return;
      }
      if (down) return answer(503, { message: "GMS is down (stub)", status: 503 });
      if (failures.remaining > 0) {
        failures.remaining--;
        // A redirect goes where a wrong URL typically lands: the web app's login page.
        if (failures.status >= 300 && failures.status < 400) res.setHeader("location", "/login");
        return answer(failures.status, { message: `injected ${failures.status} (stub)`, status: failures.status });
      }
      if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) {
        return answer(401, { message: "Unauthorized to perform this action.", status: 401 });
      }
      const url = new URL(path, "http://stub");
      if (url.pathname === "/openapi/v3/entity/datahubexecutionrequest" && req.method === "GET") {
        return scrollExecutionRequests(url);
      }
      if (url.pathname === "/api/graphql" && req.method === "POST") return graphql();
      if (req.headers["x-restli-protocol-version"] !== "2.0.0") {
        return violation("missing header X-RestLi-Protocol-Version: 2.0.0");
      }
      if (req.method === "POST" && url.pathname === "/aspects" && url.searchParams.get("action") === "ingestProposal") {
        if (!String(req.headers["content-type"]).startsWith("application/json")) {
          return violation("Content-Type must be application/json");
        }
        const parsed = IngestProposalBody.safeParse(body);
        if (!parsed.success) return violation(`bad ingestProposal body: ${z.prettifyError(parsed.error)}`);
        const proposal = parsed.data.proposal;
        if (!poolsSupported && proposal.entityType === "dataHubRemoteExecutorPool") {
          // What an entity registry without the entity makes GMS say (EntityRegistryException).
          return answer(500, {
            message: "Failed to find entity with name dataHubRemoteExecutorPool in EntityRegistry",
            status: 500,
          });
        }
        const aspect = ASPECTS[proposal.aspectName];
        if (aspect === undefined) return violation(`unknown aspect ${proposal.aspectName}`);
        if (proposal.entityType !== aspect.entityType) {
          return violation(`${proposal.aspectName} belongs to ${aspect.entityType}, not ${proposal.entityType}`);
        }
        if (!proposal.entityUrn.startsWith(`urn:li:${aspect.entityType}:`)) {
          return violation(`entityUrn ${proposal.entityUrn} is not a ${aspect.entityType} URN`);
        }
        let value: unknown;
        try {
          value = JSON.parse(proposal.aspect.value);
        } catch {
          return violation("aspect.value is not JSON");
        }
        const checked = aspect.value.safeParse(value);
        if (!checked.success) {
          return violation(`bad ${proposal.aspectName} value: ${z.prettifyError(checked.error)}`);
        }
        const k = key(proposal.entityUrn, proposal.aspectName);
        if (proposal.aspectName === "dataHubExecutionRequestResult") {
          const stored = store.get(k) as { status?: string } | undefined;
          if (stored?.status !== undefined && TERMINAL_FOR_GMS.has(stored.status)) {
            // What ExecutionRequestResultValidator makes GMS answer.
            const problem = `Cannot update execution request result: status is already ${stored.status}`;
            refusals.push({ urn: proposal.entityUrn, aspectName: proposal.aspectName, problem });
            return answer(422, { message: problem, status: 422 });
          }
          const list = writes.get(proposal.entityUrn) ?? [];
          list.push((checked.data as { status: string }).status);
          writes.set(proposal.entityUrn, list);
        }
        store.set(k, checked.data);
        return answer(200, { value: proposal.entityUrn });
      }

      function scrollExecutionRequests(url: URL) {
        // GenericEntitiesController.getEntities: query, count, scrollId, aspects, sortCriteria, sortOrder.
        const query = SCROLL_QUERY.exec(url.searchParams.get("query") ?? "");
        if (query === null) return violation(`unsupported scroll query: ${url.searchParams.get("query")}`);
        const pools = new Set((query[1] ?? "").split(" OR ").map((quoted) => quoted.slice(1, -1)));
        const sinceMs = Number(query[2]);
        const count = Number(url.searchParams.get("count"));
        if (!Number.isInteger(count) || count < 1 || count > 1000) return violation("count must be 1-1000");
        const aspects = url.searchParams.getAll("aspects");
        for (const name of EXECUTION_REQUEST_ASPECTS) {
          if (!aspects.includes(name)) return violation(`aspects must include ${name}`);
        }
        if (url.searchParams.get("sortCriteria") !== "requestTimeMs") return violation("sort by requestTimeMs");
        const scrollId = url.searchParams.get("scrollId");
        const offset = scrollId === null ? 0 : Number(Buffer.from(scrollId, "base64url").toString("utf8"));
        if (!Number.isInteger(offset) || offset < 0) return violation(`unknown scrollId ${scrollId}`);
        const matching = executionRequests
          .map((entityUrn) => ({
            entityUrn,
            input: store.get(key(entityUrn, "dataHubExecutionRequestInput")) as {
              executorId: string;
              requestedAt: number;
            },
          }))
          .filter(({ input }) => pools.has(input.executorId) && input.requestedAt >= sinceMs)
          .sort((a, b) => a.input.requestedAt - b.input.requestedAt || a.entityUrn.localeCompare(b.entityUrn));
        const page = matching.slice(offset, offset + count);
        const entities = page.map(({ entityUrn }) => {
          const entity: Record<string, unknown> = { urn: entityUrn };
          for (const name of EXECUTION_REQUEST_ASPECTS) {
            const value = store.get(key(entityUrn, name));
            if (value !== undefined) entity[name] = { value };
          }
          return entity;
        });
        const next =
          offset + count < matching.length ? Buffer.from(String(offset + count)).toString("base64url") : null;
        return answer(200, { scrollId: next, entities });
      }

      function graphql() {
        const parsed = z
          .strictObject({
            query: z.string(),
            variables: z.strictObject({ input: z.strictObject({ ingestionSourceUrn: urn }) }),
            operationName: z.string().optional(),
          })
          .safeParse(body);
        if (!parsed.success) return violation(`bad GraphQL body: ${z.prettifyError(parsed.error)}`);
        if (!/createIngestionExecutionRequest\(input: \$input\)/.test(parsed.data.query)) {
          return violation("the stub serves only createIngestionExecutionRequest(input: $input)");
        }
        const sourceUrn = parsed.data.variables.input.ingestionSourceUrn;
        const source = ingestionSources.get(sourceUrn);
        if (source === undefined) {
          // CreateIngestionExecutionRequestResolver: a GraphQL error, HTTP 200, data null.
          return answer(200, {
            errors: [
              {
                message: `Failed to find ingestion source with urn ${sourceUrn}`,
                extensions: { code: 404, type: "NOT_FOUND", classification: "DataFetchingException" },
              },
            ],
            data: { createIngestionExecutionRequest: null },
          });
        }
        const id = randomUUID();
        const entityUrn = createExecutionRequest({
          id,
          executorId: source.executorId,
          args: {
            recipe: JSON.stringify({
              ...source.recipe,
              pipeline_name: sourceUrn,
              run_id: `urn:li:dataHubExecutionRequest:${id}`,
            }),
            version: source.version ?? "1.7.0.17",
            debug_mode: "false",
          },
          source: { type: "MANUAL_INGESTION_SOURCE", ingestionSource: sourceUrn },
        });
        return answer(200, { data: { createIngestionExecutionRequest: entityUrn } });
      }

      const aspectPath = /^\/aspects\/([^/]+)$/.exec(url.pathname);
      if (req.method === "GET" && aspectPath !== null) {
        const entityUrn = decodeURIComponent(aspectPath[1] ?? "");
        const aspectName = url.searchParams.get("aspect") ?? "";
        const aspect = ASPECTS[aspectName];
        if (aspect === undefined) return violation(`unknown aspect ${aspectName}`);
        if (url.searchParams.get("version") !== "0") return violation("version must be 0 (the latest)");
        const value = store.get(key(entityUrn, aspectName));
        if (value === undefined) {
          return answer(404, { message: `No aspect ${aspectName} for ${entityUrn}`, status: 404 });
        }
        return answer(200, { aspect: { [aspect.className]: value } });
      }
      return answer(404, { message: `no route ${req.method} ${url.pathname} (stub)`, status: 404 });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    violations,
    refusals,
    setDown: (value) => {
      down = value;
    },
    failNext: (n, status) => {
      failures = { remaining: n, status };
    },
    hangNext: (n) => {
      hangs = n;
    },
    requireToken: (value) => {
      token = value;
    },
    putKillSignal: (entityUrn, options = {}) => {
      store.set(key(entityUrn, "dataHubExecutionRequestSignal"), {
        signal: "KILL",
        createdAt: { time: options.createdAtMs ?? Date.now(), actor: options.actor ?? "urn:li:corpuser:admin" },
      });
    },
    aspect: (entityUrn, aspectName) => store.get(key(entityUrn, aspectName)),
    resultWrites: (entityUrn) => [...(writes.get(entityUrn) ?? [])],
    createExecutionRequest,
    putIngestionSource: (sourceUrn, source) => {
      ingestionSources.set(sourceUrn, source);
    },
    setExecutorPoolsSupported: (supported) => {
      poolsSupported = supported;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
