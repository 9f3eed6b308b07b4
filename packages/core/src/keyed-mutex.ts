/**
 * Runs tasks one at a time per key, in arrival order, while tasks of different keys run in
 * parallel. Keys are forgotten once their queue drains.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Runs a task holding every key, acquired in sorted order so two callers cannot deadlock. */
  runAll<T>(keys: string[], task: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const acquire = (index: number): Promise<T> =>
      index === sorted.length ? task() : this.run(sorted[index]!, () => acquire(index + 1));
    return acquire(0);
  }
}
