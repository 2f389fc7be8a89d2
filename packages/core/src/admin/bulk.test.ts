import { createMemoryStore } from '@jit-provision/store-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createInvitationService, type InvitationMessage } from '../invitations';
import { createBulkJobs } from './bulk';

const SECRET = 'a-32-byte-secret-for-invitations!';

const service = (send: (message: InvitationMessage) => Promise<void>) =>
  createInvitationService({ store: createMemoryStore(), secret: SECRET, send });

const entries = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@example.com`, role: 'user' }));

describe('createBulkJobs', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('one token bucket for every job: three jobs at perSecond 2 send 2 at once, then 2 a second in all', async () => {
    vi.useFakeTimers();
    const sent: string[] = [];
    const jobs = createBulkJobs({
      invitations: service(async (m) => void sent.push(m.email)),
      perSecond: 2,
      maxJobs: 10,
    });
    const ids = await Promise.all([0, 1, 2].map((j) => jobs.start(entries(`j${j}-`, 4), 'admin')));
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(2_500);
    expect(sent).toHaveLength(9);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(sent).toHaveLength(12);
    expect(ids.map((id) => jobs.get(id).sent)).toEqual([4, 4, 4]);
  });

  it('maxJobs holds when starts race: of 5 at once with maxJobs 2, two start and three get 429', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const jobs = createBulkJobs({ invitations: service(() => held), maxJobs: 2, perSecond: 1_000 });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => jobs.start(entries(`race${i}-`, 1), 'admin')),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(2);
    for (const o of outcomes.filter((o) => o.status === 'rejected'))
      expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'rate_limited', status: 429 });
    release();
  });

  it('a failed plan gives its slot back', async () => {
    const invitations = service(async () => {});
    const jobs = createBulkJobs({ invitations, maxJobs: 1 });
    const list = vi.spyOn(invitations, 'list').mockRejectedValueOnce(new Error('down'));
    await expect(jobs.start(entries('x', 1), 'admin')).rejects.toThrow('down');
    list.mockRestore();
    await expect(jobs.start(entries('y', 1), 'admin')).resolves.toEqual(expect.any(String));
  });

  it('bad entries fail with the code createMany gives them; the rest are sent', async () => {
    const sent: string[] = [];
    const jobs = createBulkJobs({
      invitations: service(async (m) => void sent.push(m.email)),
      perSecond: 1_000,
    });
    const id = await jobs.start(
      [
        { email: 'ok@example.com', role: 'user' },
        { email: 'nope', role: 'user' },
        { email: 'role@example.com', role: 'no spaces' },
        { email: 42, role: 'user' },
        { email: 'OK@example.com', role: 'user' },
      ],
      'admin',
    );
    await vi.waitFor(() => expect(jobs.get(id).finishedAt).not.toBeNull());
    expect(jobs.get(id)).toMatchObject({ total: 5, done: 5, sent: 1, skipped: 1, failed: 3 });
    expect(jobs.get(id).results.map((r) => [r.email, r.status, r.error ?? r.reason])).toEqual([
      ['ok@example.com', 'sent', undefined],
      ['nope', 'failed', 'invalid_request'],
      ['role@example.com', 'failed', 'invalid_request'],
      ['', 'failed', 'invalid_request'],
      ['ok@example.com', 'skipped', 'duplicate'],
    ]);
    expect(sent).toEqual(['ok@example.com']);
  });
});
