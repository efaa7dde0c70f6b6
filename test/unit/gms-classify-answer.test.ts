import { describe, expect, it } from "vitest";
import { classifyGmsAnswer, classifyGmsTransportFailure } from "../../functions/adapters/gms/classify-gms-answer.js";
import { GmsRejectedError, GmsUnavailableError } from "../../functions/adapters/gms/gms-errors.js";

describe("classifyGmsAnswer", () => {
  it.each([200, 201, 204])("%d is ok", (status) => {
    expect(classifyGmsAnswer({ status, body: "" }, "write")).toEqual({ ok: true });
  });

  it.each([
    [401, /401 to the write: the token was refused; check the token in the secret DHX_GMS_TOKEN_SECRET_ARN/],
    [403, /403 to the write: the token's user lacks the privilege/],
    [404, /404 to the write: no such endpoint; check the GMS URL \(DataHub Cloud's ends in \/gms/],
    [422, /422 to the write: GMS refused the aspect \(a terminal status SUCCESS, CANCELLED/],
    [400, /400 to the write: the request was refused/],
    [413, /413 to the write: the payload is too large/],
    [302, /302 to the write: GMS redirected; check the GMS URL/],
  ])("%d is permanent: GmsRejectedError naming what to check", (status, message) => {
    const verdict = classifyGmsAnswer({ status, body: "" }, "write");
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.error).toBeInstanceOf(GmsRejectedError);
    expect(verdict.error.name).toBe("GmsRejectedError");
    expect(verdict.error.retryable).toBe(false);
    expect((verdict.error as GmsRejectedError).status).toBe(status);
    expect(verdict.error.message).toMatch(message);
  });

  it.each([
    [429, "rate-limited"],
    [408, "server-error"],
    [500, "server-error"],
    [502, "server-error"],
    [503, "server-error"],
    [504, "server-error"],
  ])("%d is transient: GmsUnavailableError (%s)", (status, kind) => {
    const verdict = classifyGmsAnswer({ status, body: "busy" }, "read");
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.error).toBeInstanceOf(GmsUnavailableError);
    expect(verdict.error.retryable).toBe(true);
    expect((verdict.error as GmsUnavailableError).kind).toBe(kind);
    expect((verdict.error as GmsUnavailableError).details.status).toBe(status);
  });

  it("keeps a 429's Retry-After seconds for the caller's backoff", () => {
    const verdict = classifyGmsAnswer({ status: 429, body: "", retryAfter: "30" }, "write");
    expect(!verdict.ok && (verdict.error as GmsUnavailableError).details.retryAfterSeconds).toBe(30);
    const dated = classifyGmsAnswer({ status: 429, body: "", retryAfter: "Wed, 21 Oct 2026 07:28:00 GMT" }, "write");
    expect(!dated.ok && (dated.error as GmsUnavailableError).details.retryAfterSeconds).toBeUndefined();
  });

  it("quotes GMS's own words, cut to 300 characters", () => {
    const verdict = classifyGmsAnswer({ status: 422, body: `{"message":"${"x".repeat(1000)}"}` }, "write");
    if (verdict.ok) throw new Error("expected a refusal");
    expect(verdict.error.message).toContain('(GMS said: {"message":"xxx');
    expect(verdict.error.message).toMatch(/x…\)$/);
    expect(verdict.error.message.length).toBeLessThan(600);
  });
});

describe("classifyGmsTransportFailure", () => {
  it("a timeout is transient and says how long we waited", () => {
    const error = classifyGmsTransportFailure(new DOMException("t", "TimeoutError"), "write", 10_000);
    expect(error).toBeInstanceOf(GmsUnavailableError);
    expect(error.kind).toBe("timeout");
    expect(error.message).toBe("GMS did not answer the write within 10000 ms");
  });

  it("a refused connection is transient and names the system error", () => {
    const failure = new TypeError("fetch failed", { cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }) });
    const error = classifyGmsTransportFailure(failure, "read", 10_000);
    expect(error.kind).toBe("network");
    expect(error.message).toBe("GMS could not be reached for the read (ECONNREFUSED)");
  });
});
