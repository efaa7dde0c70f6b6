import type { TestProject } from "vitest/node";
import { type MotoServer, startMotoServer } from "../../functions/local/moto-server.js";

let moto: MotoServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  moto = await startMotoServer();
  project.provide("motoEndpoint", moto.endpoint);
}

export async function teardown(): Promise<void> {
  await moto?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}
