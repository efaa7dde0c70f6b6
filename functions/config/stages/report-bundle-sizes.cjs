// A local serverless plugin: after packaging, prints each function's bundle size (zipped and unzipped), so a
// dependency that bloats a cold start shows up in every `serverless package` and `deploy`.
const { readFileSync } = require("node:fs");
const { join, isAbsolute } = require("node:path");

/** Sums the sizes a zip's central directory records; no extraction needed. */
function zipSizes(file) {
  const zip = readFileSync(file);
  const endOfDirectory = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endOfDirectory < 0) throw new Error(`${file} is not a zip file`);
  const entries = zip.readUInt16LE(endOfDirectory + 10);
  let offset = zip.readUInt32LE(endOfDirectory + 16);
  let unzippedBytes = 0;
  const files = [];
  for (let i = 0; i < entries; i += 1) {
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    files.push({ name: zip.toString("utf8", offset + 46, offset + 46 + nameLength), bytes: size });
    unzippedBytes += size;
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return { zippedBytes: zip.length, unzippedBytes, files };
}

/** Each function's artifact and its sizes, from a packaged service. */
function bundleSizes(serviceDir, functions) {
  return Object.entries(functions).map(([name, fn]) => {
    const artifact = fn.package?.artifact;
    if (artifact === undefined) throw new Error(`function ${name} has no packaged artifact`);
    const path = isAbsolute(artifact) ? artifact : join(serviceDir, artifact);
    return { name, artifact: path, ...zipSizes(path) };
  });
}

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

class ReportBundleSizes {
  constructor(serverless, _options, { log }) {
    this.hooks = {
      "after:package:createDeploymentArtifacts": () => {
        const sizes = bundleSizes(serverless.serviceDir, serverless.service.functions);
        log.notice("Bundle sizes (zipped / unzipped):");
        for (const { name, zippedBytes, unzippedBytes } of sizes) {
          log.notice(`  ${name.padEnd(20)} ${kib(zippedBytes).padStart(12)} / ${kib(unzippedBytes).padStart(12)}`);
        }
      },
    };
  }
}

module.exports = ReportBundleSizes;
module.exports.zipSizes = zipSizes;
module.exports.bundleSizes = bundleSizes;
