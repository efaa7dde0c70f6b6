import { createExecutorDeps } from "../config/create-aws-deps.js";
import { loadExecutorConfig } from "../config/executor-config.js";
import { createMetrics } from "../handlers/record-metrics.js";
import { createTaskStateChangeHandler } from "../handlers/task-state-change.js";

const config = loadExecutorConfig(process.env);

export const handler = createTaskStateChangeHandler(createExecutorDeps(config), createMetrics(config.stage));
