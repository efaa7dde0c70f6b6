import { createExecutorDeps } from "../config/create-aws-deps.js";
import { loadExecutorConfig } from "../config/executor-config.js";
import { RELEASE_VERSION } from "../config/release-version.js";
import { createReconcileHandler } from "../handlers/reconcile.js";
import { createMetrics } from "../handlers/record-metrics.js";

const config = loadExecutorConfig(process.env);

export const handler = createReconcileHandler(createExecutorDeps(config), RELEASE_VERSION, createMetrics(config.stage));
