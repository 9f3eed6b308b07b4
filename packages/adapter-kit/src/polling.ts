/** What {@link pollUntil} waits for, and how long. */
export interface PollUntilOptions<Value> {
  /** Whether the value read is the one waited for. */
  done: (value: Value) => boolean;
  /** Give up after this many ms and return the last value read. */
  timeout: number;
  /** Pause between reads, in ms. */
  interval: number;
  /** Runs before each pause; throw to stop (e.g. a lifecycle's closed or abort check). */
  check?: () => void;
}

/**
 * Reads until `done` holds or `timeout` passes, and returns the last value read: for a backend
 * resource (an index, a table) that becomes ready some time after it was created.
 */
export async function pollUntil<Value>(
  read: () => Promise<Value>,
  options: PollUntilOptions<Value>,
): Promise<Value> {
  const deadline = Date.now() + options.timeout;
  let value = await read();
  while (!options.done(value) && Date.now() < deadline) {
    options.check?.();
    await new Promise((resolve) => setTimeout(resolve, options.interval));
    value = await read();
  }
  return value;
}
