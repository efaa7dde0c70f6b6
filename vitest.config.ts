import { defineConfig } from "vitest/config";

/** What tests against moto share: Powertools logs through the global console (the fixture keeps them for secret
 * scans), no metrics output, and fake credentials for the local AWS. */
const motoEnv = {
  POWERTOOLS_DEV: "true",
  POWERTOOLS_METRICS_DISABLED: "true",
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
};

const withMoto = {
  globalSetup: ["./test/support/moto-global-setup.ts"],
  setupFiles: ["./test/support/moto-env.ts"],
  // One moto for the run, reset between tests: files must not share it at the same time.
  fileParallelism: false,
  env: motoEnv,
};

export default defineConfig({
  test: {
    reporters: ["default", "./test/support/summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // Property and exhaustive tests take seconds; a loaded CI machine must not turn that into a failure.
          testTimeout: 30_000,
          env: { POWERTOOLS_LOG_LEVEL: "SILENT", POWERTOOLS_METRICS_DISABLED: "true" },
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          ...withMoto,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          ...withMoto,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: "stack",
          include: ["test/stack/**/*.test.ts"],
          // Packages the ci stage once; every stack test reads that template.
          globalSetup: ["./test/stack/package-stage.setup.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
