/**
 * Runs tasks one at a time, in the order they were queued. A task that fails rejects its own
 * promise only: the tasks queued after it still run.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    // Settled to undefined, not to the task's value: the tail lives until the next task, and a
    // value held there (a full replace script is megabytes at 10,000 farms) would live as long.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Resolves once every task queued so far has settled. */
  async idle(): Promise<void> {
    let seen: Promise<unknown>;
    do {
      seen = this.tail;
      await seen;
    } while (seen !== this.tail);
  }
}
