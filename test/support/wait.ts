/** Polls `cond` until it holds; fails with `what` after `ms`. Keeps tests free of fixed sleeps. */
export async function waitFor(cond: () => boolean, ms = 8000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
