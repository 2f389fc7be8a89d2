import type { ScimFilter, ScimUserFilterAttribute, ScimUserRecord, Store } from '@jit-provision/core';
import { expect, it } from 'vitest';
import { freshIssuer, type ScimContext, scimUser, unique } from './scim-context';

type UserFilter = ScimFilter<ScimUserFilterAttribute>;
const eq = (attribute: ScimUserFilterAttribute, value: string | boolean): UserFilter => ({
  op: 'eq',
  attribute,
  value,
});

/**
 * Three users of a fresh issuer: Ada (every attribute, two emails), Bob (one home email) and Carol (no
 * externalId, displayName, name or email; disabled when the store has `users`).
 */
async function threeUsers<S extends Store>(cases: ScimContext<S>) {
  const { scim, store } = cases;
  const issuer = freshIssuer();
  const ada = await scim.createUser(
    scimUser(issuer, {
      userName: 'Ada.Lovelace@Example.com',
      externalId: `ext-A-${unique('x')}`,
      attributes: {
        displayName: 'Ada Lovelace',
        name: { givenName: 'Ada', familyName: 'Lovelace', formatted: 'Ada Lovelace' },
        emails: [
          { value: 'ada@work.example', type: 'work', primary: true },
          { value: 'ada@home.example', type: 'home', primary: false },
        ],
      },
    }),
  );
  const bob = await scim.createUser(
    scimUser(issuer, {
      userName: 'bob@example.com',
      attributes: {
        displayName: 'Bob',
        name: { givenName: 'Bob', familyName: 'Builder' },
        emails: [{ value: 'bob@home.example', type: 'home', primary: true }],
      },
    }),
  );
  const carol = await scim.createUser(
    scimUser(issuer, { userName: 'carol@example.org', externalId: null, attributes: {}, email: null }),
  );
  await store.users?.setStatus(carol.record.user.id, 'disabled');
  const names = new Map([
    [ada.record.user.id, 'ada'],
    [bob.record.user.id, 'bob'],
    [carol.record.user.id, 'carol'],
  ]);
  /** The users `filter` finds, by first name, in listing order. */
  const find = async (filter: UserFilter) => {
    const page = await scim.findUsers(issuer, { filter, startIndex: 1, count: 100 });
    expect(page.totalResults).toBe(page.resources.length);
    return page.resources.map((r) => names.get(r.user.id)).sort();
  };
  return { issuer, ada: ada.record, bob: bob.record, carol: carol.record, find };
}

/** Filters: every operator on the attributes a store keeps, value paths, case rules, two-valued logic. */
export function scimFilterCases<S extends Store>(cases: ScimContext<S>): void {
  it('eq: userName case-insensitively, externalId and id exactly; no match is an empty page', async () => {
    const { ada, find } = await threeUsers(cases);
    expect(await find(eq('userName', 'ada.lovelace@example.COM'))).toEqual(['ada']);
    expect(await find(eq('externalId', ada.user.externalId ?? ''))).toEqual(['ada']);
    expect(await find(eq('externalId', (ada.user.externalId ?? '').toUpperCase()))).toEqual([]);
    expect(await find(eq('id', ada.user.id))).toEqual(['ada']);
    expect(await find(eq('displayName', 'ADA LOVELACE'))).toEqual(['ada']);
    expect(await find(eq('name.familyName', 'lovelace'))).toEqual(['ada']);
    expect(await find(eq('userName', 'nobody@example.com'))).toEqual([]);
  });

  it('ne, co, sw, ew and pr; an absent attribute is ne anything and never present', async () => {
    const { find } = await threeUsers(cases);
    expect(await find({ op: 'ne', attribute: 'displayName', value: 'bob' })).toEqual(['ada', 'carol']);
    expect(await find({ op: 'co', attribute: 'userName', value: 'EXAMPLE.com' })).toEqual(['ada', 'bob']);
    expect(await find({ op: 'sw', attribute: 'userName', value: 'B' })).toEqual(['bob']);
    expect(await find({ op: 'ew', attribute: 'userName', value: '.ORG' })).toEqual(['carol']);
    expect(await find({ op: 'co', attribute: 'name.givenName', value: 'o' })).toEqual(['bob']);
    expect(await find({ op: 'pr', attribute: 'displayName' })).toEqual(['ada', 'bob']);
    expect(await find({ op: 'pr', attribute: 'externalId' })).toEqual(['ada', 'bob']);
    expect(await find({ op: 'pr', attribute: 'name.formatted' })).toEqual(['ada']);
  });

  it('gt, ge, lt, le on userName (case-insensitively) and active', async () => {
    const { find } = await threeUsers(cases);
    const bob = 'BOB@example.com';
    expect(await find({ op: 'gt', attribute: 'userName', value: bob })).toEqual(['carol']);
    expect(await find({ op: 'ge', attribute: 'userName', value: bob })).toEqual(['bob', 'carol']);
    expect(await find({ op: 'lt', attribute: 'userName', value: bob })).toEqual(['ada']);
    expect(await find({ op: 'le', attribute: 'userName', value: bob })).toEqual(['ada', 'bob']);
    expect(await find(eq('active', true))).toEqual(
      cases.store.users ? ['ada', 'bob'] : ['ada', 'bob', 'carol'],
    );
  });

  it('and, or, not, nested', async () => {
    const { find } = await threeUsers(cases);
    const sw = (value: string): UserFilter => ({ op: 'sw', attribute: 'userName', value });
    expect(await find({ op: 'or', left: sw('a'), right: sw('b') })).toEqual(['ada', 'bob']);
    expect(await find({ op: 'and', left: sw('a'), right: sw('b') })).toEqual([]);
    expect(await find({ op: 'not', filter: sw('a') })).toEqual(['bob', 'carol']);
    expect(
      await find({
        op: 'and',
        left: { op: 'pr', attribute: 'displayName' },
        right: { op: 'not', filter: eq('displayName', 'BOB') },
      }),
    ).toEqual(['ada']);
    expect(await find({ op: 'not', filter: eq('displayName', 'Bob') })).toEqual(['ada', 'carol']);
  });
}

/** Filters: value paths over emails, and dates as instants. */
export function scimValuePathCases<S extends Store>(cases: ScimContext<S>): void {
  it('value paths over emails: type and value, case-insensitively, primary', async () => {
    const { find } = await threeUsers(cases);
    const emails = (filter: ScimFilter<'value' | 'type' | 'primary' | 'display'>): UserFilter => ({
      op: 'some',
      attribute: 'emails',
      filter,
    });
    expect(
      await find(
        emails({
          op: 'and',
          left: { op: 'eq', attribute: 'type', value: 'WORK' },
          right: { op: 'co', attribute: 'value', value: '@work' },
        }),
      ),
    ).toEqual(['ada']);
    // Both conditions on one element: Ada's work email is not her home one.
    expect(
      await find(
        emails({
          op: 'and',
          left: { op: 'eq', attribute: 'type', value: 'work' },
          right: { op: 'co', attribute: 'value', value: 'home' },
        }),
      ),
    ).toEqual([]);
    expect(await find(emails({ op: 'eq', attribute: 'type', value: 'home' }))).toEqual(['ada', 'bob']);
    expect(await find(emails({ op: 'eq', attribute: 'value', value: 'BOB@home.example' }))).toEqual(['bob']);
    expect(
      await find(
        emails({
          op: 'and',
          left: { op: 'eq', attribute: 'primary', value: true },
          right: { op: 'eq', attribute: 'type', value: 'home' },
        }),
      ),
    ).toEqual(['bob']);
    expect(await find(emails({ op: 'pr', attribute: 'value' }))).toEqual(['ada', 'bob']);
    expect(await find({ op: 'not', filter: emails({ op: 'eq', attribute: 'type', value: 'work' }) })).toEqual(
      ['bob', 'carol'],
    );
  });

  it('meta.created and meta.lastModified compare as instants', async () => {
    const { scim } = cases;
    const { issuer, ada, bob, carol, find } = await threeUsers(cases);
    // Read again: a store may move lastModified when Carol was disabled.
    const now = await Promise.all([ada, bob, carol].map((r) => scim.getUser(issuer, r.user.id)));
    const mark = Math.max(...now.map((r) => r?.lastModified.getTime() ?? Number.NaN));
    expect(Number.isNaN(mark)).toBe(false);
    // Replace Bob until the store's clock has passed the mark by 2 ms (stores may keep finer than ms).
    let replaced: ScimUserRecord | null = bob;
    for (let i = 0; i < 10_000 && (replaced?.lastModified.getTime() ?? 0) < mark + 2; i++) {
      const { userName, user, attributes } = bob;
      replaced = await scim.replaceUser(issuer, user.id, {
        userName,
        externalId: user.externalId,
        attributes,
        email: user.email,
        name: user.name,
      });
    }
    const after = new Date(mark + 1).toISOString();
    expect(await find({ op: 'gt', attribute: 'meta.lastModified', value: after })).toEqual(['bob']);
    expect(await find({ op: 'lt', attribute: 'meta.lastModified', value: after })).toEqual(['ada', 'carol']);
    const before = new Date(ada.createdAt.getTime() - 1).toISOString();
    expect(await find({ op: 'ge', attribute: 'meta.created', value: before })).toEqual([
      'ada',
      'bob',
      'carol',
    ]);
    // The same instant written with an offset.
    const offset = new Date(mark + 1 + 3_600_000).toISOString().replace('Z', '+01:00');
    expect(await find({ op: 'gt', attribute: 'meta.lastModified', value: offset })).toEqual(['bob']);
  });
}

/** Paging: 1-based `startIndex`, `count`, `totalResults`, a stable (createdAt, id) order. */
export function scimPagingCases<S extends Store>(cases: ScimContext<S>): void {
  it('pages partition the listing in (createdAt, id) order; count 0 answers only totalResults', async () => {
    const { scim } = cases;
    const issuer = freshIssuer();
    for (let i = 0; i < 7; i++) await scim.createUser(scimUser(issuer));
    const all = await scim.findUsers(issuer, { startIndex: 1, count: 100 });
    expect(all.totalResults).toBe(7);
    const order = all.resources.map((r) => [r.createdAt.getTime(), r.user.id] as const);
    const sorted = [...order].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    expect(order).toEqual(sorted);
    const pages = await Promise.all(
      [1, 4, 7].map((startIndex) => scim.findUsers(issuer, { startIndex, count: 3 })),
    );
    expect(pages.map((p) => p.totalResults)).toEqual([7, 7, 7]);
    expect(pages.flatMap((p) => p.resources.map((r) => r.user.id))).toEqual(
      all.resources.map((r) => r.user.id),
    );
    expect(await scim.findUsers(issuer, { startIndex: 1, count: 0 })).toEqual({
      totalResults: 7,
      resources: [],
    });
    expect(await scim.findUsers(issuer, { startIndex: 8, count: 3 })).toEqual({
      totalResults: 7,
      resources: [],
    });
    const filtered = await scim.findUsers(issuer, {
      filter: { op: 'sw', attribute: 'userName', value: 'user-' },
      startIndex: 2,
      count: 2,
    });
    expect(filtered.totalResults).toBe(7);
    expect(filtered.resources.map((r) => r.user.id)).toEqual(all.resources.slice(1, 3).map((r) => r.user.id));
  });
}
