import { describe, expect, it } from "vitest";
import { classifyStoppedTask, type StoppedTaskFacts } from "../../functions/core/classify-stopped-task.js";

const base: StoppedTaskFacts = {
  containers: [{ name: "ingestion", exitCode: 0 }],
  stopCode: "EssentialContainerExited",
  stoppedReason: "Essential container in task exited",
  memoryLimitKiB: 6 * 1024 * 1024,
  fargate: { cpu: 1024, memoryMiB: 6144 },
};
const withContainer = (c: StoppedTaskFacts["containers"][number], more: Partial<StoppedTaskFacts> = {}) => ({
  ...base,
  containers: [c],
  ...more,
});

describe("how a stopped task is classified", () => {
  it.each<[string, StoppedTaskFacts, string, string | RegExp]>([
    ["exit 0", base, "SUCCESS", "ingestion succeeded"],
    [
      "stopped by us to cancel",
      withContainer({ exitCode: 4 }, { stopRequestedBy: "cancel", stopCode: "UserInitiated" }),
      "CANCELLED",
      /cancelled/,
    ],
    [
      "stopped by us to cancel, killed",
      withContainer({ exitCode: 137 }, { stopRequestedBy: "cancel" }),
      "CANCELLED",
      /cancelled/,
    ],
    [
      "stopped by us for a timeout",
      withContainer({ exitCode: 4 }, { stopRequestedBy: "timeout" }),
      "TIMEOUT",
      /timeout/,
    ],
    [
      "out of memory with exit 137",
      withContainer({ exitCode: 137, reason: "OutOfMemoryError: Container killed due to memory usage" }),
      "FAILURE",
      /^out of memory: .*6291456 KiB \(Fargate 1 vCPU \/ 6144 MiB\)/,
    ],
    [
      "out of memory with exit 0",
      withContainer({ exitCode: 0, reason: "OutOfMemoryError: Container killed due to memory usage" }),
      "FAILURE",
      /^out of memory/,
    ],
    ["exit 137 without a reason", withContainer({ exitCode: 137 }), "FAILURE", /^out of memory/],
    ["the entrypoint's own out-of-memory exit", withContainer({ exitCode: 3 }), "FAILURE", /^out of memory/],
    [
      "an ingestion failure",
      withContainer({ exitCode: 1 }, { reportMessage: "datahub ingest failed: 3 failures" }),
      "FAILURE",
      "the task exited with code 1: datahub ingest failed: 3 failures",
    ],
    ["another exit code", withContainer({ exitCode: 42 }), "FAILURE", /code 42/],
    [
      "SIGTERM from outside the executor",
      withContainer({ exitCode: 4 }, { stopCode: "UserInitiated", stoppedReason: "Task stopped by user" }),
      "FAILURE",
      /stopped outside the executor: Task stopped by user/,
    ],
  ])("%s → %s", (_name, facts, status, reason) => {
    const verdict = classifyStoppedTask(facts);
    expect(verdict.kind).toBe("final");
    if (verdict.kind === "final") {
      expect(verdict.status).toBe(status);
      expect(verdict.reason).toMatch(reason);
    }
  });

  it.each<[string, StoppedTaskFacts, RegExp]>([
    [
      "TaskFailedToStart with no containers",
      { ...base, containers: [], stopCode: "TaskFailedToStart", stoppedReason: "Task failed to start" },
      /Task failed to start/,
    ],
    [
      "ResourceInitializationError",
      {
        ...base,
        containers: [],
        stopCode: "TaskFailedToStart",
        stoppedReason: "ResourceInitializationError: unable to pull secrets or registry auth",
      },
      /ResourceInitializationError/,
    ],
    [
      "CannotPullContainerError",
      withContainer(
        { reason: "CannotPullContainerError: ref pull has been retried 1 time(s): i/o timeout" },
        { stopCode: "TaskFailedToStart" },
      ),
      /CannotPullContainerError/,
    ],
    [
      "network interface timeout",
      {
        ...base,
        containers: [],
        stopCode: undefined,
        stoppedReason: "Timeout waiting for network interface provisioning to complete.",
      },
      /network interface/,
    ],
    [
      "SpotInterruption",
      withContainer(
        { exitCode: 143 },
        { stopCode: "SpotInterruption", stoppedReason: "Your Spot Task was interrupted." },
      ),
      /Spot/,
    ],
    ["the start timeout", withContainer({}, { stopRequestedBy: "start-timeout" }), /start timeout/],
  ])("%s → an infrastructure failure", (_name, facts, reason) => {
    const verdict = classifyStoppedTask(facts);
    expect(verdict.kind).toBe("infrastructure");
    expect(verdict.reason).toMatch(reason);
  });
});
