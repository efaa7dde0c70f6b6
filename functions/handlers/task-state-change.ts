import type { ExecutorDeps } from "../app/executor-deps.js";
import { handleTaskStateChange, type TaskStateChangeOutcome } from "../app/handle-task-state-change.js";
import { TaskStateChangeEvent } from "../core/task-state-change-event.js";

/** The task-state-change Lambda, on the EventBridge rule for this cluster's ECS Task State Change events. */
export function createTaskStateChangeHandler(deps: ExecutorDeps) {
  return async (event: unknown): Promise<TaskStateChangeOutcome> => {
    const parsed = TaskStateChangeEvent.parse(event);
    return handleTaskStateChange(deps, parsed);
  };
}
