import { createExecutorDeps } from "../config/create-aws-deps.js";
import { loadExecutorConfig } from "../config/executor-config.js";
import { RELEASE_VERSION } from "../config/release-version.js";
import { createReconcileHandler } from "../handlers/reconcile.js";

export const handler = createReconcileHandler(createExecutorDeps(loadExecutorConfig(process.env)), RELEASE_VERSION);
