// Writes that must land in the order they were asked for (an older snapshot must never land after a newer one).

/** Runs tasks one at a time, each after the one before has settled, whether it succeeded or failed. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Queues `task`; the promise is the task's own result (a failure rejects it, never the tasks after it). */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Settles once every task queued so far has. */
  idle(): Promise<void> {
    return this.#tail.then(() => undefined);
  }
}
