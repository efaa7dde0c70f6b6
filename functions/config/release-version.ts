import packageJson from "../../package.json" with { type: "json" };

/** The executor's version as DataHub shows it (dataHubRemoteExecutorStatus.executorReleaseVersion). */
export const RELEASE_VERSION: string = packageJson.version;
