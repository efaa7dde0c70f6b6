import { describe, expect, it } from "vitest";
import {
  decideLaunch,
  LAUNCH_RETRY,
  launchRetryDelayMs,
  type RunTaskAnswer,
} from "../../functions/core/launch-outcome.js";

const error = (name: string, message: string): RunTaskAnswer => ({ kind: "error", name, message });

describe("what a RunTask answer means", () => {
  it.each<[string, RunTaskAnswer, string, RegExp]>([
    ["a task", { kind: "response", taskArns: ["arn:task/1"], failures: [] }, "launched", /^$/],
    [
      "capacity unavailable",
      {
        kind: "response",
        taskArns: [],
        failures: [
          {
            reason: "Capacity is unavailable at this time. Please try again later or in a different availability zone",
          },
        ],
      },
      "retry",
      /^RunTask failure: Capacity is unavailable/,
    ],
    [
      "vCPU quota",
      {
        kind: "response",
        taskArns: [],
        failures: [
          { reason: "You've reached the limit on the number of vCPUs you can run concurrently", detail: "quota" },
        ],
      },
      "retry",
      /vCPUs.*: quota$/,
    ],
    ["throttling", error("ThrottlingException", "Rate exceeded"), "retry", /^ThrottlingException/],
    ["an EC2 throttle wrapped by ECS", error("InvalidParameterException", "Rate exceeded"), "retry", /Rate exceeded/],
    [
      "a bad parameter",
      error("InvalidParameterException", "No Fargate configuration exists for given values"),
      "reject",
      /No Fargate configuration/,
    ],
    [
      "a missing cluster",
      error("ClusterNotFoundException", "Cluster not found."),
      "reject",
      /ClusterNotFoundException/,
    ],
    [
      "access denied",
      error("AccessDeniedException", "not authorized to perform: iam:PassRole"),
      "reject",
      /iam:PassRole/,
    ],
    ["a server error", error("ServerException", "internal"), "ambiguous", /ServerException/],
    ["an empty answer", { kind: "response", taskArns: [], failures: [] }, "ambiguous", /neither a task nor a failure/],
  ])("%s → %s", (_name, answer, kind, reason) => {
    const decision = decideLaunch(answer);
    expect(decision.kind).toBe(kind);
    if (decision.kind !== "launched") expect(decision.reason).toMatch(reason);
  });

  it("backs off exponentially from 30 s to at most 15 minutes", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(launchRetryDelayMs)).toEqual([
      30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000,
    ]);
    expect(LAUNCH_RETRY.maxFailures).toBeGreaterThan(1);
  });
});
