import { createIntakeDeps, loadIntakeConfig } from "../config/intake-config.js";
import { createIntakeHandler } from "../handlers/intake.js";

const config = loadIntakeConfig(process.env);

export const handler = createIntakeHandler(createIntakeDeps(config), config);
