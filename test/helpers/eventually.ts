/**
 * The one polling helper of the tests: call `check` (sync or async) until it gives a truthy value, which is
 * returned, or fail after `timeoutMs` naming `what`. Polls every 20 ms; timeouts are generous because the CPU is
 * shared. Use it where no event can be awaited; never as a sleep.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
