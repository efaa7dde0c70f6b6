import { Metrics } from "@aws-lambda-powertools/metrics";
import { createExecutorDeps } from "../config/create-aws-deps.js";
import { loadExecutorConfig } from "../config/executor-config.js";
import { createDispatchHandler } from "../handlers/dispatch-request.js";

const config = loadExecutorConfig(process.env);
const metrics = new Metrics({ namespace: "DataHubServerlessExecutor", defaultDimensions: { stage: config.stage } });

export const handler = createDispatchHandler(createExecutorDeps(config), metrics);
