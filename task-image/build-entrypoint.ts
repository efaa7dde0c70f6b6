import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Where the bundle lands, relative to the repository root: the Dockerfile copies it from here. */
export const ENTRYPOINT_SOURCE = "task-image/src/entrypoint.ts";
export const ENTRYPOINT_BUNDLE = "task-image/dist/entrypoint.mjs";

/** One ESM file with every dependency inside (AWS SDK v3, Powertools, zod, yaml): the image needs only node. */
export async function buildEntrypoint(outfile = join(ROOT, ENTRYPOINT_BUNDLE)): Promise<string> {
  await build({
    entryPoints: [join(ROOT, ENTRYPOINT_SOURCE)],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    minify: true,
    keepNames: true,
    sourcemap: false,
    mainFields: ["module", "main"],
    legalComments: "none",
    logLevel: "warning",
    // A few CommonJS dependencies call require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire as __dhxCreateRequire } from 'node:module'; const require = __dhxCreateRequire(import.meta.url);",
    },
  });
  return outfile;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outfile = await buildEntrypoint(process.argv[2]);
  process.stdout.write(`built ${relative(process.cwd(), outfile)}\n`);
}
