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
  close(): Promise<void>;
};

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
      if (req.headers["x-restli-protocol-version"] !== "2.0.0") {
        return violation("missing header X-RestLi-Protocol-Version: 2.0.0");
      }

      const url = new URL(path, "http://stub");
      if (req.method === "POST" && url.pathname === "/aspects" && url.searchParams.get("action") === "ingestProposal") {
        if (!String(req.headers["content-type"]).startsWith("application/json")) {
          return violation("Content-Type must be application/json");
        }
        const parsed = IngestProposalBody.safeParse(body);
        if (!parsed.success) return violation(`bad ingestProposal body: ${z.prettifyError(parsed.error)}`);
        const proposal = parsed.data.proposal;
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
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
