import { join } from "node:path";

export type ImageCli = { executable: string; version: string; plugins: string[] };

export type CliChoice =
  | { kind: "image"; executable: string; version: string }
  | { kind: "cached"; executable: string; version: string }
  | { kind: "install"; executable: string; version: string; venvDir: string; requirement: string }
  | { kind: "refused"; problem: string };

/** PEP 440-ish release strings only: the version ends up in a pip requirement. */
const VERSION_PATTERN = /^\d{1,4}(\.\d{1,6}){1,4}((a|b|rc|\.post|\.dev)\d{1,6})*$/;

export function normalizeCliVersion(version: string | undefined): string | undefined {
  const trimmed = version?.trim().replace(/^v/, "");
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}

/**
 * Which `datahub` runs: the image's when args.version is absent or matches it; otherwise a venv for that
 * version under the cache directory (reused when present, installed at start when installs are enabled),
 * or a refusal that says what to change.
 */
export function chooseCli(
  askedVersion: string | undefined,
  image: ImageCli,
  options: { installs: "enabled" | "disabled"; cacheDir: string; venvExists: (dir: string) => boolean },
): CliChoice {
  const asked = normalizeCliVersion(askedVersion);
  const own = normalizeCliVersion(image.version) ?? image.version;
  if (asked === undefined || asked === own) return { kind: "image", executable: image.executable, version: own };
  if (!VERSION_PATTERN.test(asked)) {
    return { kind: "refused", problem: `args.version ${JSON.stringify(asked.slice(0, 40))} is not a CLI version` };
  }
  const venvDir = join(options.cacheDir, `acryl-datahub-${asked}`);
  const executable = join(venvDir, "bin", "datahub");
  if (options.venvExists(venvDir)) return { kind: "cached", executable, version: asked };
  if (options.installs === "disabled") {
    return {
      kind: "refused",
      problem:
        `the run asks for DataHub CLI ${asked} but this image has ${own} and installs are disabled ` +
        `(DHX_CLI_INSTALLS): set the source's CLI version to ${own}, build the image with ` +
        `DATAHUB_VERSION=${asked}, or enable installs for the stage`,
    };
  }
  const extras = image.plugins.length === 0 ? "" : `[${image.plugins.join(",")}]`;
  return { kind: "install", executable, version: asked, venvDir, requirement: `acryl-datahub${extras}==${asked}` };
}
