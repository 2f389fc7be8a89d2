import type { Store } from '@jit-provision/core';
import { expect, it } from 'vitest';
import { conformanceUser } from './options';
import { freshIssuer, type ScimContext, scimUser, unique, userNameEq } from './scim-context';

/** A person both sides know: the login's identity key and the directory's externalId. */
const person = () => {
  const issuer = freshIssuer();
  return { issuer, key: { issuer, subject: unique('sub') }, externalId: unique('ext') };
};

/** One row per person (decision 0008): the first login and the SCIM create meet on `externalId`. */
export function scimJoinCases<S extends Store>(cases: ScimContext<S>): void {
  it('a login first, then createUser with its externalId: the same row is adopted (created false)', async () => {
    const { scim, store } = cases;
    const { issuer, key, externalId } = person();
    const login = await store.upsert(conformanceUser(key, { externalId }));
    expect(login.created).toBe(true);
    expect(login.user.externalId).toBe(externalId);
    const input = scimUser(issuer, { externalId, attributes: { displayName: 'Ada' } });
    const { record, created } = await scim.createUser(input);
    expect(created).toBe(false);
    expect(record.user).toMatchObject({ id: login.user.id, subject: key.subject, externalId });
    expect(record).toMatchObject({ userName: input.userName, attributes: { displayName: 'Ada' } });
    expect(await scim.getUser(issuer, login.user.id)).toEqual(record);
    expect((await store.lookup(key))?.id).toBe(login.user.id);
  });

  it('createUser first, then a login with its externalId: upsert binds the row (created false)', async () => {
    const { scim, store } = cases;
    const { issuer, key, externalId } = person();
    const { record } = await scim.createUser(scimUser(issuer, { externalId }));
    const first = await store.upsert(conformanceUser(key, { externalId }));
    expect(first.created).toBe(false);
    expect(first.user).toMatchObject({ id: record.user.id, subject: key.subject, externalId });
    expect(first.user.username).toBe(conformanceUser(key).username);
    expect((await store.lookup(key))?.id).toBe(record.user.id);
    const second = await store.upsert(conformanceUser(key, { externalId }));
    expect(second).toMatchObject({ created: false, user: { id: record.user.id } });
    expect((await scim.getUser(issuer, record.user.id))?.user.subject).toBe(key.subject);

    // Another subject with the same externalId is another person: refused, and no row is made for it.
    const intruder = { issuer, subject: unique('other') };
    await expect(store.upsert(conformanceUser(intruder, { externalId }))).rejects.toMatchObject({
      code: 'scim_conflict',
      attribute: 'externalId',
    });
    expect(await store.lookup(intruder)).toBeNull();
  });

  it('scim.bind binds an unbound row once; the same subject again is answered; another subject gets null', async () => {
    const { scim, store } = cases;
    const { issuer, key, externalId } = person();
    const { record } = await scim.createUser(scimUser(issuer, { externalId }));
    const username = conformanceUser(key).username;
    const bound = await scim.bind({ ...key, externalId, username });
    expect(bound).toMatchObject({ id: record.user.id, subject: key.subject, username, externalId });
    expect((await store.lookup(key))?.id).toBe(record.user.id);
    expect((await scim.bind({ ...key, externalId, username }))?.id).toBe(record.user.id);
    const other = { issuer, subject: unique('other') };
    expect(await scim.bind({ ...other, externalId, username: conformanceUser(other).username })).toBeNull();
    expect(await scim.bind({ ...key, externalId: unique('none'), username })).toBeNull();
    expect(await store.lookup(other)).toBeNull();
  });

  it('a hidden row is bound by the first login too (it stays hidden from SCIM)', async () => {
    const { scim } = cases;
    const { issuer, key, externalId } = person();
    const { record } = await scim.createUser(scimUser(issuer, { externalId }));
    await scim.hideUser(issuer, record.user.id);
    const bound = await scim.bind({ ...key, externalId, username: conformanceUser(key).username });
    expect(bound?.id).toBe(record.user.id);
    expect(await scim.getUser(issuer, record.user.id)).toBeNull();
  });

  it('users.delete erases the SCIM side too: getUser null, out of its groups, its externalId free', async (context) => {
    const { scim, store } = cases;
    if (store.users === undefined) return context.skip('this store has no users part');
    const { issuer, externalId } = person();
    const input = scimUser(issuer, { externalId });
    const { record } = await scim.createUser(input);
    const group = await scim.createGroup(issuer, {
      displayName: 'Members',
      externalId: null,
      attributes: {},
      members: [record.user.id],
    });
    await store.users.delete(record.user.id);
    expect(await scim.getUser(issuer, record.user.id)).toBeNull();
    expect((await scim.getGroup(issuer, group.id))?.members).toEqual([]);
    expect(await scim.groupsOf(issuer, record.user.id)).toEqual([]);
    const again = await scim.createUser({ ...input, username: `scim:conf:${unique('row')}` });
    expect(again.created).toBe(true);
    expect(again.record.user.id).not.toBe(record.user.id);
  });
}

/** Races: many callers for one person or one userName end on one row, created once. */
export function scimRaceCases<S extends Store>(cases: ScimContext<S>): void {
  it('50 parallel createUser and login upserts for one person: one row, one id, exactly one created', async () => {
    const { scim, store } = cases;
    const { issuer, key, externalId } = person();
    const input = scimUser(issuer, { externalId });
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        i % 2 === 0
          ? scim.createUser(input).then((r) => ({ id: r.record.user.id, created: r.created }))
          : store
              .upsert(conformanceUser(key, { externalId }))
              .then((r) => ({ id: r.user.id, created: r.created })),
      ),
    );
    const done = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    // A createUser after the one that wrote the SCIM side finds a visible SCIM user: a conflict, never a row.
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'scim_conflict' });
    expect(done.filter((r) => r.created)).toHaveLength(1);
    const ids = new Set(done.map((r) => r.id));
    expect(ids.size).toBe(1);
    const [id] = ids;
    expect((await store.lookup(key))?.id).toBe(id);
    const page = await scim.findUsers(issuer, {
      filter: { op: 'eq', attribute: 'externalId', value: externalId },
      startIndex: 1,
      count: 10,
    });
    expect(page.resources.map((r) => r.user.id)).toEqual([id]);
    expect((await scim.status(issuer)).users).toBe(1);
  });

  it('50 parallel createUser of one userName: one created, every other one a scim_conflict', async () => {
    const { scim } = cases;
    const issuer = freshIssuer();
    const userName = `${unique('race')}@example.com`;
    const shared = unique('ext');
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        scim.createUser(
          scimUser(issuer, {
            userName: i % 3 === 0 ? userName.toUpperCase() : userName,
            externalId: i % 2 === 0 ? shared : unique('ext'),
          }),
        ),
      ),
    );
    const done = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(done).toHaveLength(1);
    expect(done[0]?.created).toBe(true);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'scim_conflict' });
    const page = await scim.findUsers(issuer, { filter: userNameEq(userName), startIndex: 1, count: 10 });
    expect(page.totalResults).toBe(1);
    expect((await scim.status(issuer)).users).toBe(1);
  });
}
