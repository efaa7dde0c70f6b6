/** Set once when the task is asked to stop (SIGTERM from ECS StopTask); listeners run at most once. */
export class CancelSignal {
  private listeners: (() => void)[] = [];
  requested = false;

  request(): void {
    if (this.requested) return;
    this.requested = true;
    for (const listener of this.listeners.splice(0)) listener();
  }

  /** Runs `listener` on request, or at once if already requested; returns a function that detaches it. */
  onRequest(listener: () => void): () => void {
    if (this.requested) {
      listener();
      return () => {};
    }
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }
}
