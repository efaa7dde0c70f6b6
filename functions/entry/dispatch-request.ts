import { createExecutorDeps } from "../config/create-aws-deps.js";
import { loadExecutorConfig } from "../config/executor-config.js";
import { createDispatchHandler } from "../handlers/dispatch-request.js";
import { createMetrics } from "../handlers/record-metrics.js";

const config = loadExecutorConfig(process.env);

export const handler = createDispatchHandler(createExecutorDeps(config), createMetrics(config.stage));
