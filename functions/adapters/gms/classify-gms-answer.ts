import { GmsRejectedError, GmsUnavailableError, GmsUnavailableKind } from "./gms-errors.js";

export type GmsOperation = "write" | "read";

export type GmsAnswer = {
  status: number;
  /** The answer's body, already stripped of anything secret (see excerpt below). */
  body: string;
  retryAfter?: string | null;
};

const BODY_EXCERPT_CHARS = 300;

/**
 * The one place that decides what a GMS answer means (datahub-protocol.md §3): 2xx is ok; 401, 403, 404,
 * 422 and every other 4xx are permanent; 408, 429 and 5xx are transient. Messages say what to check.
 */
export function classifyGmsAnswer(
  answer: GmsAnswer,
  operation: GmsOperation,
): { ok: true } | { ok: false; error: GmsRejectedError | GmsUnavailableError } {
  const { status } = answer;
  if (status >= 200 && status < 300) return { ok: true };
  const said = excerpt(answer.body);
  const what = operation === "write" ? "the write" : "the read";
  if (status === 429) {
    const retryAfterSeconds = parseRetryAfter(answer.retryAfter);
    return {
      ok: false,
      error: new GmsUnavailableError(GmsUnavailableKind.RATE_LIMITED, `GMS answered 429 (rate limited) to ${what}`, {
        status,
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      }),
    };
  }
  if (status >= 500 || status === 408) {
    return {
      ok: false,
      error: new GmsUnavailableError(GmsUnavailableKind.SERVER_ERROR, `GMS answered ${status} to ${what}${said}`, {
        status,
      }),
    };
  }
  return {
    ok: false,
    error: new GmsRejectedError(status, `GMS answered ${status} to ${what}: ${advice(status)}${said}`),
  };
}

function advice(status: number): string {
  switch (status) {
    case 401:
      return "the token was refused; check the token in the secret DHX_GMS_TOKEN_SECRET_ARN names (expired, revoked or for another DataHub?)";
    case 403:
      return "the token's user lacks the privilege; it needs Manage Metadata Ingestion (and Manage Secrets for secret reads)";
    case 404:
      return "no such endpoint; check the GMS URL (DataHub Cloud's ends in /gms, a self-hosted GMS is usually http://<host>:8080)";
    case 413:
      return "the payload is too large for GMS";
    case 422:
      return "GMS refused the aspect (a terminal status SUCCESS, CANCELLED, ABORTED or DUPLICATE cannot be overwritten)";
    default:
      if (status >= 300 && status < 400) {
        return "GMS redirected; check the GMS URL (it should be GMS itself, not the DataHub web app)";
      }
      return "the request was refused";
  }
}

function excerpt(body: string): string {
  const trimmed = body.trim();
  if (trimmed === "") return "";
  return ` (GMS said: ${trimmed.length > BODY_EXCERPT_CHARS ? `${trimmed.slice(0, BODY_EXCERPT_CHARS)}…` : trimmed})`;
}

function parseRetryAfter(raw: string | null | undefined): number | undefined {
  if (raw === null || raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  return Number.parseInt(raw.trim(), 10);
}

/** A fetch that never got an answer: always transient. */
export function classifyGmsTransportFailure(error: unknown, operation: GmsOperation, timeoutMs: number) {
  const name = (error as { name?: unknown }).name;
  const what = operation === "write" ? "the write" : "the read";
  if (name === "TimeoutError" || name === "AbortError") {
    return new GmsUnavailableError(GmsUnavailableKind.TIMEOUT, `GMS did not answer ${what} within ${timeoutMs} ms`);
  }
  const cause = (error as { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === "string" ? cause.code : String(name);
  return new GmsUnavailableError(GmsUnavailableKind.NETWORK, `GMS could not be reached for ${what} (${code})`);
}
