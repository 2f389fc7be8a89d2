import type { Store } from '@jit-provision/core';
import { describe, expect, it } from 'vitest';
import { conformanceUser, type StoreConformanceOptions } from './options';
import {
  freshIssuer,
  NOT_A_UUID,
  type ScimContext,
  scimContext,
  scimUser,
  UNKNOWN_UUID,
  unique,
  userNameEq,
} from './scim-context';
import { scimFilterCases, scimPagingCases, scimValuePathCases } from './scim-filters';
import { scimGroupCases } from './scim-groups';
import { scimJoinCases, scimRaceCases } from './scim-join';

/** Users: the round trip, binding at once, uniqueness per issuer. */
function scimUserCases<S extends Store>(cases: ScimContext<S>): void {
  it('createUser keeps what SCIM wrote; the row waits unbound; getUser answers it, scoped by issuer', async () => {
    const { scim, store } = cases;
    const issuer = freshIssuer();
    const attributes = {
      displayName: 'Ada Lovelace',
      name: { givenName: 'Ada', familyName: 'Lovelace', formatted: 'Ada Lovelace' },
      emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Analytics' },
    };
    const input = scimUser(issuer, { attributes, email: 'ada@example.com', name: 'Ada Lovelace' });
    const { record, created } = await scim.createUser(input);
    expect(created).toBe(true);
    expect(record).toMatchObject({ userName: input.userName, attributes, version: 1 });
    expect(record.user).toMatchObject({
      issuer,
      subject: '',
      externalId: input.externalId,
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      role: 'user',
      status: 'active',
    });
    expect(record.createdAt).toBeInstanceOf(Date);
    expect(record.lastModified).toBeInstanceOf(Date);
    expect(await scim.getUser(issuer, record.user.id)).toEqual(record);
    expect(await store.getUser(record.user.id)).toEqual(record.user);
    // An unbound row is never found by a login's lookup.
    expect(await store.lookup({ issuer, subject: '' })).toBeNull();
    expect(await scim.getUser(freshIssuer(), record.user.id)).toBeNull();
    expect(await scim.getUser(issuer, UNKNOWN_UUID)).toBeNull();
    expect(await scim.getUser(issuer, NOT_A_UUID)).toBeNull();
  });

  it('createUser with a subject binds at once: a login finds the row', async () => {
    const { scim, store } = cases;
    const issuer = freshIssuer();
    const subject = unique('sub');
    const { record } = await scim.createUser(scimUser(issuer, { subject, externalId: subject }));
    expect(record.user.subject).toBe(subject);
    expect((await store.lookup({ issuer, subject }))?.id).toBe(record.user.id);
  });

  it('userName is unique per issuer, case-insensitively: scim_conflict on userName', async () => {
    const { scim } = cases;
    const issuer = freshIssuer();
    const userName = `Ada.${unique('u')}@Example.com`;
    await scim.createUser(scimUser(issuer, { userName }));
    await expect(
      scim.createUser(scimUser(issuer, { userName: userName.toLowerCase() })),
    ).rejects.toMatchObject({
      code: 'scim_conflict',
      attribute: 'userName',
    });
    const page = await scim.findUsers(issuer, { filter: userNameEq(userName), startIndex: 1, count: 10 });
    expect(page.totalResults).toBe(1);
    // another issuer is another directory
    expect((await scim.createUser(scimUser(freshIssuer(), { userName }))).created).toBe(true);
  });

  it('externalId is unique per issuer: scim_conflict on externalId', async () => {
    const { scim } = cases;
    const issuer = freshIssuer();
    const externalId = unique('ext');
    await scim.createUser(scimUser(issuer, { externalId }));
    await expect(scim.createUser(scimUser(issuer, { externalId }))).rejects.toMatchObject({
      code: 'scim_conflict',
      attribute: 'externalId',
    });
    expect((await scim.createUser(scimUser(freshIssuer(), { externalId }))).created).toBe(true);
  });
}

/** Users: replace with `ifVersion`, hide, status. */
function scimUserChangeCases<S extends Store>(cases: ScimContext<S>): void {
  it('replaceUser writes attributes, email and name, bumps the version; ifVersion and userName conflict', async () => {
    const { scim, store } = cases;
    const issuer = freshIssuer();
    const { record } = await scim.createUser(scimUser(issuer));
    const other = await scim.createUser(scimUser(issuer));
    const id = record.user.id;
    const write = {
      userName: `renamed-${unique('u')}@example.com`,
      externalId: record.user.externalId,
      attributes: { displayName: 'Renamed', nickName: 'R' },
      email: 'renamed@example.com',
      name: 'Renamed',
    };
    const replaced = await scim.replaceUser(issuer, id, write, { ifVersion: record.version });
    expect(replaced).toMatchObject({ userName: write.userName, attributes: write.attributes, version: 2 });
    expect(replaced?.lastModified.getTime()).toBeGreaterThanOrEqual(record.lastModified.getTime());
    expect(replaced?.createdAt).toEqual(record.createdAt);
    expect(await store.getUser(id)).toMatchObject({ email: 'renamed@example.com', name: 'Renamed' });
    expect(await scim.getUser(issuer, id)).toEqual(replaced);
    await expect(scim.replaceUser(issuer, id, write, { ifVersion: record.version })).rejects.toMatchObject({
      code: 'scim_conflict',
      attribute: 'version',
    });
    await expect(
      scim.replaceUser(issuer, other.record.user.id, { ...write, userName: write.userName.toUpperCase() }),
    ).rejects.toMatchObject({ code: 'scim_conflict', attribute: 'userName' });
    expect(await scim.replaceUser(issuer, UNKNOWN_UUID, write)).toBeNull();
    expect(await scim.replaceUser(issuer, NOT_A_UUID, write)).toBeNull();
    expect(await scim.replaceUser(freshIssuer(), id, write)).toBeNull();
  });

  it('hideUser: absent from every read, userName free again; a re-create of its externalId adopts the row', async () => {
    const { scim } = cases;
    const issuer = freshIssuer();
    const input = scimUser(issuer);
    const { record } = await scim.createUser(input);
    const id = record.user.id;
    expect(await scim.hideUser(issuer, id)).toBe(true);
    expect(await scim.hideUser(issuer, id)).toBe(false);
    expect(await scim.getUser(issuer, id)).toBeNull();
    expect((await scim.findUsers(issuer, { startIndex: 1, count: 10 })).totalResults).toBe(0);
    expect(await scim.replaceUser(issuer, id, input)).toBeNull();
    expect(await scim.hideUser(issuer, UNKNOWN_UUID)).toBe(false);

    const again = await scim.createUser({ ...input, attributes: { displayName: 'Back' } });
    expect(again.created).toBe(false);
    expect(again.record.user.id).toBe(id);
    expect(again.record.version).toBeGreaterThan(record.version);
    expect(again.record.attributes).toEqual({ displayName: 'Back' });
    expect(await scim.getUser(issuer, id)).toEqual(again.record);

    // A hidden user's userName no longer conflicts.
    const hidden = await scim.createUser(scimUser(issuer));
    await scim.hideUser(issuer, hidden.record.user.id);
    const successor = await scim.createUser(scimUser(issuer, { userName: hidden.record.userName }));
    expect(successor.created).toBe(true);
  });

  it('status counts the visible users and the groups of the issuer, and the last write', async () => {
    const { scim } = cases;
    const issuer = freshIssuer();
    expect(await scim.status(issuer)).toEqual({ users: 0, groups: 0, lastWrite: null });
    const a = await scim.createUser(scimUser(issuer));
    const b = await scim.createUser(scimUser(issuer));
    await scim.hideUser(issuer, b.record.user.id);
    const group = await scim.createGroup(issuer, { displayName: 'Staff', externalId: null, attributes: {} });
    const status = await scim.status(issuer);
    expect(status).toMatchObject({ users: 1, groups: 1 });
    expect(status.lastWrite?.getTime()).toBeGreaterThanOrEqual(
      Math.max(a.record.lastModified.getTime(), group.lastModified.getTime()),
    );
    expect((await scim.status()).users).toBeGreaterThanOrEqual(1);
  });
}

/** Outbox mode: a SCIM write's event, and one `user.provisioned` per person whichever side came first. */
function scimOutboxCases<S extends Store>(cases: ScimContext<S>): void {
  it('replaceUser writes options.event with the change; an adopting createUser writes no second user.provisioned', async (context) => {
    const { scim, store } = cases;
    if (store.outbox === undefined) return context.skip('this store has no outbox');
    const issuer = freshIssuer();
    const key = { issuer, subject: unique('sub') };
    const externalId = unique('ext');
    const login = await store.upsert(
      conformanceUser(key, { externalId, emitEvent: { identity: { ...key, externalId } } }),
    );
    const adopted = await scim.createUser(
      scimUser(issuer, { externalId, emitEvent: { identity: { ...key, externalId }, actor: 'scim' } }),
    );
    expect(adopted).toMatchObject({ created: false, record: { user: { id: login.user.id } } });
    const id = login.user.id;
    const { userName, externalId: ext, attributes, email, name } = scimUser(issuer, { externalId });
    await scim.replaceUser(
      issuer,
      id,
      { userName, externalId: ext, attributes, email, name },
      { event: { type: 'user.role_changed', actor: 'scim', data: { role: 'user' } } },
    );
    const events = await store.outbox.list({ userIds: [id] });
    expect(events.filter((e) => e.type === 'user.provisioned')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'user.role_changed')).toMatchObject([
      { actor: 'scim', identity: { issuer, subject: key.subject } },
    ]);
  });
}

/**
 * The SCIM cases (decision 0008), run for stores with `scim` (skipped otherwise). Each case works in its own
 * issuer, so a shared database is fine.
 */
export function scimCases<S extends Store>(options: StoreConformanceOptions<S>): void {
  describe('scim', () => {
    const cases = scimContext(options);
    scimUserCases(cases);
    scimUserChangeCases(cases);
    scimJoinCases(cases);
    scimRaceCases(cases);
    scimFilterCases(cases);
    scimValuePathCases(cases);
    scimPagingCases(cases);
    scimGroupCases(cases);
    scimOutboxCases(cases);
  });
}
