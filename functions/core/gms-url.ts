/** A GMS address that cannot work; the message names the problem and the fix. */
export class GmsConfigError extends Error {
  override readonly name = "GmsConfigError" as const;
}

// DataHub Cloud serves GMS under /gms on the tenant's host; the bare host is the web app.
const DATAHUB_CLOUD_DOMAIN = "acryl.io";
const DATAHUB_CLOUD_GMS_PATH = "/gms";

/**
 * Normalises the GMS base URL (no trailing slash) so request paths can be appended to it, and refuses the
 * addresses that would fail at the first write: not a URL, not http(s), credentials or a query in it, and a
 * DataHub Cloud host without its /gms path (datahub-protocol.md §3).
 */
export function parseGmsUrl(raw: string): string {
  const text = raw.trim();
  if (text === "") throw new GmsConfigError("the GMS URL is empty: set it to e.g. http://datahub-gms:8080");
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new GmsConfigError(`the GMS URL ${quote(text)} is not a URL: write it as http(s)://host[:port][/path]`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new GmsConfigError(`the GMS URL must use http or https, not ${quote(url.protocol.replace(/:$/, ""))}`);
  }
  if (url.username !== "" || url.password !== "") {
    // The URL is not echoed: whatever sits before the "@" may be a password.
    throw new GmsConfigError("the GMS URL must not carry credentials: the token comes from Secrets Manager");
  }
  if (url.search !== "" || url.hash !== "") {
    throw new GmsConfigError(`the GMS URL ${quote(text)} must not have a query or fragment: give the base address`);
  }
  const path = url.pathname.replace(/\/+$/, "");
  const host = url.hostname;
  const isCloud = host === DATAHUB_CLOUD_DOMAIN || host.endsWith(`.${DATAHUB_CLOUD_DOMAIN}`);
  if (isCloud && path !== DATAHUB_CLOUD_GMS_PATH) {
    throw new GmsConfigError(
      `the GMS URL ${quote(text)} points at DataHub Cloud without its GMS path: ` +
        `DataHub Cloud's GMS URL is https://<tenant>.acryl.io/gms: add /gms`,
    );
  }
  return `${url.origin}${path}`;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}
