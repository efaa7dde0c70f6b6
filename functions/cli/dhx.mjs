#!/usr/bin/env node
// The `dhx` bin: runs the TypeScript CLI through tsx (a dev dependency here), so there is no build step to forget.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./dhx.ts");
await main();
