import type { Logger } from "@aws-lambda-powertools/logger";
import { classifyGmsTransportFailure, type GmsOperation } from "./classify-gms-answer.js";
import type { GmsRequest } from "./gms-requests.js";
import type { TokenProvider } from "./gms-token-provider.js";

export type GmsAnswer = { status: number; body: string; retryAfter: string | null };

/** What every GMS client is made with. */
export type GmsClientOptions = {
  /** Already normalised by parseGmsUrl. */
  gmsUrl: string;
  token: TokenProvider;
  timeoutMs?: number;
  now?: () => number;
  logger?: Logger;
};

/**
 * One HTTP exchange with GMS, shared by every GMS client: the token from its provider (read again once after a
 * 401, for a rotated token), no redirects followed (a redirect means a wrong URL: classified, not followed), a
 * timeout, and the token scrubbed from anything GMS echoes back. What the answer means is the caller's to decide.
 */
export async function exchangeWithGms(
  options: { token: TokenProvider; timeoutMs: number; logger?: Logger },
  operation: GmsOperation,
  build: (token: string) => GmsRequest,
  logContext: Record<string, unknown> = {},
): Promise<GmsAnswer> {
  let token = await options.token();
  let answer = await send(build(token), operation, token, options.timeoutMs);
  if (answer.status === 401) {
    options.logger?.warn("GMS refused the token; retrying once with a freshly read one", logContext);
    token = await options.token({ fresh: true });
    answer = await send(build(token), operation, token, options.timeoutMs);
  }
  return answer;
}

async function send(
  request: GmsRequest,
  operation: GmsOperation,
  token: string,
  timeoutMs: number,
): Promise<GmsAnswer> {
  let response: Response;
  let body: string;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    body = await response.text();
  } catch (error) {
    throw classifyGmsTransportFailure(error, operation, timeoutMs);
  }
  return {
    status: response.status,
    // Error messages quote GMS's answer: make sure the token can never ride along.
    body: token === "" ? body : body.split(token).join("***"),
    retryAfter: response.headers.get("retry-after"),
  };
}
