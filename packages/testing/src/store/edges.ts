import type { Store } from '@jit-provision/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { conformanceUser, freshKey, type StoreConformanceOptions } from './options';

/** Longest values core lets through (identity.ts, username.ts, validateRole), in UTF-16 code units. */
export const MAX_LENGTHS = {
  issuer: 2048,
  subject: 255,
  email: 320,
  name: 512,
  tenantId: 255,
  role: 64,
  /** `oidc:` + a 32-character prefix + `:` + a 255-unit subject. */
  username: 293,
} as const;

const EMOJI = '😀'; // 4 bytes in UTF-8, 2 UTF-16 code units: catches 3-byte charsets (MySQL utf8/utf8mb3)

/** `head`, padded with 4-byte characters to exactly `length` UTF-16 code units. */
const padded = (head: string, length: number) => {
  const room = length - head.length;
  return head + EMOJI.repeat(Math.floor(room / 2)) + 'x'.repeat(room % 2);
};

/** The setup every group of the `edges` cases shares: a fresh store per case, and its helpers. */
function edgesContext<S extends Store>(options: StoreConformanceOptions<S>) {
  let store: S;
  beforeEach(async () => {
    store = await options.createStore();
  });
  afterEach(async () => {
    await options.cleanup?.(store);
  });

  const newUser = conformanceUser;
  return {
    get store() {
      return store;
    },
    newUser,
  };
}

type EdgesContext<S extends Store> = ReturnType<typeof edgesContext<S>>;

/** Case-distinct subjects and emails, username collisions, confirm on an existing row, unknown ids. */
function identityEdgeCases<S extends Store>(cases: EdgesContext<S>): void {
  const { newUser } = cases;
  it('subjects that differ only in case are different users (no case-insensitive collation)', async () => {
    const { store } = cases;
    const { issuer, subject } = freshKey('case');
    const upper = { issuer, subject: `Case-${subject}` };
    const lower = { issuer, subject: `case-${subject}` };
    const a = await store.upsert(newUser(upper));
    const b = await store.upsert(newUser(lower));
    expect(b.created).toBe(true);
    expect(b.user.id).not.toBe(a.user.id);
    expect((await store.lookup(upper))?.subject).toBe(upper.subject);
    expect((await store.lookup(lower))?.subject).toBe(lower.subject);
    expect((await store.lookup(lower))?.id).toBe(b.user.id);
    expect(await store.lookup({ issuer, subject: `CASE-${subject}` })).toBeNull();
  });

  it('reservations of subjects that differ only in case do not conflict', async () => {
    const { store } = cases;
    const { issuer, subject } = freshKey('case-reserve');
    const upper = { issuer, subject: `Case-${subject}` };
    const lower = { issuer, subject: `case-${subject}` };
    const held = await store.reservations!.reserve(upper, { leaseMs: 10_000 });
    const other = await store.reservations!.reserve(lower, { leaseMs: 10_000 });
    const user = await store.reservations!.confirm(newUser(lower), other, `app-lower-${subject}`);
    expect(user.subject).toBe(lower.subject);
    expect(await store.lookup(upper)).toBeNull();
    await store.reservations!.release(upper, held);
  });

  it('emails are kept as given and never unique: case-distinct and equal emails on different users', async () => {
    const { store } = cases;
    const tag = freshKey('mail').subject;
    const mixed = `Ada.${tag}@Example.COM`;
    const a = await store.upsert(newUser(freshKey('mail'), { email: mixed }));
    const b = await store.upsert(newUser(freshKey('mail'), { email: mixed.toLowerCase() }));
    const c = await store.upsert(newUser(freshKey('mail'), { email: mixed }));
    expect([a.created, b.created, c.created]).toEqual([true, true, true]);
    expect(new Set([a.user.id, b.user.id, c.user.id]).size).toBe(3);
    expect((await store.getUser(a.user.id))?.email).toBe(mixed);
    expect((await store.getUser(b.user.id))?.email).toBe(mixed.toLowerCase());
  });

  it('upsert of a new identity whose username another identity owns: reservation_conflict, nothing written', async () => {
    const { store } = cases;
    const owner = freshKey('owner');
    const first = await store.upsert(newUser(owner, { email: 'owner@example.com' }));
    const intruder = freshKey('intruder');
    const taken = newUser(intruder, { username: first.user.username, email: 'intruder@example.com' });
    await expect(store.upsert(taken)).rejects.toMatchObject({ code: 'reservation_conflict' });
    expect(await store.lookup(intruder)).toBeNull();
    expect(await store.lookup(owner)).toEqual(first.user);
    // A case-distinct username is another username.
    const cased = await store.upsert(newUser(intruder, { username: first.user.username.toUpperCase() }));
    expect(cased.created).toBe(true);
  });

  it('confirm on an identity that already has a row: reservation_conflict, the row stays', async () => {
    const { store } = cases;
    const key = freshKey('confirm-existing');
    const held = await store.reservations!.reserve(key, { leaseMs: 10_000 });
    const existing = await store.upsert(newUser(key));
    await expect(store.reservations!.confirm(newUser(key), held, `app-${key.subject}`)).rejects.toMatchObject(
      {
        code: 'reservation_conflict',
      },
    );
    expect(await store.lookup(key)).toEqual(existing.user);
    await store.reservations!.release(key, held);
  });

  it('confirm with a username another identity owns: reservation_conflict, nothing written', async () => {
    const { store } = cases;
    const owner = await store.upsert(newUser(freshKey('owner')));
    const key = freshKey('confirm-username');
    const held = await store.reservations!.reserve(key, { leaseMs: 10_000 });
    await expect(
      store.reservations!.confirm(
        newUser(key, { username: owner.user.username }),
        held,
        `app-${key.subject}`,
      ),
    ).rejects.toMatchObject({ code: 'reservation_conflict' });
    expect(await store.lookup(key)).toBeNull();
    await store.reservations!.release(key, held);
  });

  it('sync and setRole of an unknown id are user_not_found; getUser is null', async () => {
    const { store } = cases;
    const unknown = `unknown-${freshKey().subject}`;
    await expect(store.sync(unknown, { email: 'x@example.com' })).rejects.toMatchObject({
      code: 'user_not_found',
    });
    await expect(store.setRole(unknown, 'admin')).rejects.toMatchObject({ code: 'user_not_found' });
    expect(await store.getUser(unknown)).toBeNull();
  });
}

/** The longest values core accepts, in 4-byte characters. */
function longestValueCases<S extends Store>(cases: EdgesContext<S>): void {
  const { newUser } = cases;
  it('the longest values core accepts, in 4-byte characters, round-trip unchanged', async () => {
    const { store } = cases;
    const tag = freshKey('max').subject;
    const key = {
      issuer: padded(`https://conformance.jit-provision.test/${tag}/`, MAX_LENGTHS.issuer),
      subject: padded(`${tag}-`, MAX_LENGTHS.subject),
    };
    const prefix = `p${'x'.repeat(31)}`;
    const input = newUser(key, {
      username: `oidc:${prefix}:${key.subject}`,
      email: padded(`${tag}-`, MAX_LENGTHS.email - '@example.com'.length) + '@example.com',
      name: padded('Ada ', MAX_LENGTHS.name),
      role: `r${'o'.repeat(MAX_LENGTHS.role - 1)}`,
      tenantId: padded('t-', MAX_LENGTHS.tenantId),
    });
    for (const field of ['issuer', 'subject', 'username', 'email', 'name', 'role', 'tenantId'] as const) {
      expect(input[field]?.length, field).toBe(MAX_LENGTHS[field]);
    }
    const { user, created } = await store.upsert(input);
    expect(created).toBe(true);
    const expected = {
      issuer: input.issuer,
      subject: input.subject,
      username: input.username,
      email: input.email,
      name: input.name,
      role: input.role,
      tenantId: input.tenantId,
    };
    expect(user).toMatchObject(expected);
    expect(await store.lookup(key)).toMatchObject(expected);
    expect((await store.upsert(input)).created).toBe(false);

    const otherName = padded('Bob ', MAX_LENGTHS.name);
    expect(await store.sync(user.id, { name: otherName })).toMatchObject({ name: otherName });

    // The reservation table holds the same key sizes.
    const reserved = { ...key, subject: padded(`${tag}-r-`, MAX_LENGTHS.subject) };
    const held = await store.reservations!.reserve(reserved, { leaseMs: 10_000 });
    const confirmed = await store.reservations!.confirm(
      newUser(reserved, { username: `oidc:${prefix}:${reserved.subject}` }),
      held,
      padded(`app-${tag}-`, 255),
    );
    expect(confirmed).toMatchObject({ issuer: reserved.issuer, subject: reserved.subject });
    expect((await store.lookup(reserved))?.id).toBe(confirmed.id);
  });
}

/**
 * What a hand-written store gets wrong that the happy path does not show: identities that differ only in
 * case (a case-insensitive collation merges them), a username owned by another identity, the longest values
 * core accepts written with 4-byte characters, and the answers for unknown ids and already-created rows.
 */
export function edgeCases<S extends Store>(options: StoreConformanceOptions<S>): void {
  describe('edges', () => {
    const cases = edgesContext(options);
    identityEdgeCases(cases);
    longestValueCases(cases);
  });
}
