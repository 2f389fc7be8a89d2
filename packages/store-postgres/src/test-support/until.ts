/**
 * Poll `check` until it holds, or throw after `timeoutMs`. The deadline only catches a hang: it is
 * generous, since a loaded machine makes every wait longer.
 */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
