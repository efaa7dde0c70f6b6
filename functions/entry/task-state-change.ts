import { createExecutorDeps } from "../config/create-aws-deps.js";
import { loadExecutorConfig } from "../config/executor-config.js";
import { createTaskStateChangeHandler } from "../handlers/task-state-change.js";

export const handler = createTaskStateChangeHandler(createExecutorDeps(loadExecutorConfig(process.env)));
