import { describe, expect, it } from "vitest";
import { GmsConfigError, parseGmsUrl } from "../../functions/core/gms-url.js";

describe("parseGmsUrl", () => {
  it.each([
    ["http://datahub-gms:8080", "http://datahub-gms:8080"],
    ["http://datahub-gms:8080/", "http://datahub-gms:8080"],
    ["  https://GMS.Example.com/  ", "https://gms.example.com"],
    ["https://acme.acryl.io/gms", "https://acme.acryl.io/gms"],
    ["https://acme.acryl.io/gms/", "https://acme.acryl.io/gms"],
    ["https://ACME.Acryl.IO/gms", "https://acme.acryl.io/gms"],
    ["https://proxy.example.com/datahub/gms//", "https://proxy.example.com/datahub/gms"],
    ["http://127.0.0.1:39001", "http://127.0.0.1:39001"],
    ["https://gms.example.com:443", "https://gms.example.com"],
    // Not DataHub Cloud: a look-alike domain keeps its path rules to itself.
    ["https://notacryl.io", "https://notacryl.io"],
  ])("accepts %j as %j", (raw, normalised) => {
    expect(parseGmsUrl(raw)).toBe(normalised);
  });

  it.each([
    ["", /empty/],
    ["   ", /empty/],
    ["datahub-gms:8080", /must use http or https, not "datahub-gms"/],
    ["gms.example.com", /is not a URL/],
    ["ftp://gms.example.com", /must use http or https, not "ftp"/],
    ["https://acme.acryl.io", /DataHub Cloud's GMS URL is https:\/\/<tenant>\.acryl\.io\/gms: add \/gms/],
    ["https://acme.acryl.io/", /add \/gms/],
    ["https://acme.acryl.io/api/graphql", /add \/gms/],
    ["https://acryl.io", /add \/gms/],
    ["https://gms.example.com?x=1", /must not have a query or fragment/],
    ["https://gms.example.com#top", /must not have a query or fragment/],
  ])("refuses %j", (raw, problem) => {
    expect(() => parseGmsUrl(raw)).toThrow(GmsConfigError);
    expect(() => parseGmsUrl(raw)).toThrow(problem);
  });

  it("refuses credentials in the URL without echoing them", () => {
    let error: unknown;
    try {
      parseGmsUrl("https://admin:hunter2@gms.example.com");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(GmsConfigError);
    expect((error as Error).name).toBe("GmsConfigError");
    expect((error as Error).message).toMatch(/must not carry credentials/);
    expect((error as Error).message).not.toContain("hunter2");
  });
});
