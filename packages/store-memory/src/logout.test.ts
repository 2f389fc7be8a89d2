import { describe, expect, it } from 'vitest';
import { createMemoryLogout } from './logout';

describe('memory logout part', () => {
  it('a flood of distinct jtis stays within the bound; a fresh jti is still claimed once', async () => {
    const logout = createMemoryLogout(() => {}, 1_000);
    const until = new Date(Date.now() + 60_000);
    for (let i = 0; i < 50_000; i++) await logout.store.claimJti('https://idp.test', `flood-${i}`, until);
    expect(logout.size()).toBeLessThanOrEqual(1_000);
    expect(await logout.store.claimJti('https://idp.test', 'fresh', until)).toBe(true);
    expect(await logout.store.claimJti('https://idp.test', 'fresh', until)).toBe(false);
  });
});
