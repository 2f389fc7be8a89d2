import { createMemoryStore } from '@jit-provision/store-memory';
import { describe, expect, it, vi } from 'vitest';
import { createProvisioner } from '../provisioning';
import type { ScimUserWrite } from '../store';
import type { IssuerConfig, UserEvent } from '../types';

const ENTRA = 'https://login.microsoftonline.com/tenant-1/v2.0';
const OKTA = 'https://acme.okta.com';
const issuers: IssuerConfig[] = [
  { issuer: ENTRA, audience: 'api', externalIdClaim: 'oid' },
  { issuer: OKTA, audience: 'api', externalIdClaim: 'sub' },
];

const person = (n: string, extra: Partial<ScimUserWrite> = {}): ScimUserWrite => ({
  userName: `${n}@example.com`,
  externalId: `oid-${n}`,
  attributes: { name: { givenName: n }, emails: [{ value: `${n}@example.com`, primary: true }] },
  email: `${n}@example.com`,
  name: n,
  ...extra,
});

/** A provisioner whose `onUserEvent` hook records every event. */
function setup(options: { autoCreate?: boolean; hookDelivery?: 'inline' | 'outbox' } = {}) {
  const events: UserEvent[] = [];
  const store = createMemoryStore();
  const provisioner = createProvisioner({
    store,
    issuers,
    ...options,
    onUserEvent: [(event) => void events.push(event)],
  });
  const directory = provisioner.directory?.({
    issuer: ENTRA,
    groupRoles: {
      map: { 'App Admins': 'admin', 'grp-editors': 'editor' },
      allow: ['admin', 'editor', 'user'],
    },
  });
  if (directory === undefined) throw new Error('the provisioner has directory()');
  const ofType = (type: UserEvent['type']) => events.filter((event) => event.type === type);
  return { events, ofType, store, provisioner, directory };
}

describe('provisioner.directory: one row per person, whichever comes first (decision 0008)', () => {
  it('a SCIM create, then the first login: the login binds to that row; one user.provisioned, actor scim', async () => {
    const { ofType, provisioner, directory } = setup();
    const { record, created } = await directory.createUser(person('ada'));
    expect(created).toBe(true);
    expect(record.user).toMatchObject({ issuer: ENTRA, subject: '', externalId: 'oid-ada' });
    const login = await provisioner.ensureUserExists({
      issuer: ENTRA,
      subject: 'sub-ada',
      externalId: 'oid-ada',
    });
    expect(login.created).toBe(false);
    expect(login.user.id).toBe(record.user.id);
    expect(login.user.subject).toBe('sub-ada');
    expect((await provisioner.ensureUserExists({ issuer: ENTRA, subject: 'sub-ada' })).user.id).toBe(
      record.user.id,
    );
    expect(ofType('user.provisioned').map((event) => [event.userId, event.actor])).toEqual([
      [record.user.id, 'scim'],
    ]);
  });

  it('with autoCreate off, a SCIM-provisioned person still gets in; nobody else does', async () => {
    const { provisioner, directory } = setup({ autoCreate: false });
    const { record } = await directory.createUser(person('bo'));
    const login = await provisioner.ensureUserExists({
      issuer: ENTRA,
      subject: 'sub-bo',
      externalId: 'oid-bo',
    });
    expect(login.user.id).toBe(record.user.id);
    await expect(
      provisioner.ensureUserExists({ issuer: ENTRA, subject: 'sub-x', externalId: 'oid-unknown' }),
    ).rejects.toMatchObject({ code: 'user_not_provisioned', status: 403 });
  });

  it("Okta's externalId is the token's sub: the SCIM create is bound at once", async () => {
    const { provisioner } = setup();
    const okta = provisioner.directory?.({ issuer: OKTA });
    const { record } = (await okta?.createUser(person('cy', { externalId: '00u1cy' }))) ?? {};
    expect(record?.user.subject).toBe('00u1cy');
    const login = await provisioner.ensureUserExists({
      issuer: OKTA,
      subject: '00u1cy',
      externalId: '00u1cy',
    });
    expect(login).toMatchObject({ created: false, path: 'fast' });
    expect(login.user.id).toBe(record?.user.id);
  });

  it('a first login, then the SCIM create: SCIM adopts the row (same id), no second user.provisioned', async () => {
    const { ofType, provisioner, directory } = setup();
    const login = await provisioner.ensureUserExists({
      issuer: ENTRA,
      subject: 'sub-di',
      externalId: 'oid-di',
    });
    expect(login.created).toBe(true);
    const { record, created } = await directory.createUser(person('di'));
    expect(created).toBe(false);
    expect(record.user.id).toBe(login.user.id);
    expect(record.userName).toBe('di@example.com');
    expect(ofType('user.provisioned')).toHaveLength(1);
  });

  it('racing SCIM creates and first logins of one person end on one row with one user.provisioned', async () => {
    for (const round of [1, 2, 3]) {
      const { ofType, provisioner, directory, store } = setup();
      const n = `race${round}`;
      const logins = Array.from({ length: 25 }, () =>
        provisioner.ensureUserExists({ issuer: ENTRA, subject: `sub-${n}`, externalId: `oid-${n}` }),
      );
      const creates = Array.from({ length: 25 }, () => directory.createUser(person(n)));
      const ids = new Set((await Promise.all(logins)).map((login) => login.user.id));
      // A second POST of a person SCIM already has is a conflict (409), never a second row.
      for (const result of await Promise.allSettled(creates)) {
        if (result.status === 'fulfilled') ids.add(result.value.record.user.id);
        else expect(result.reason).toMatchObject({ code: 'scim_conflict', attribute: 'externalId' });
      }
      expect(ids.size).toBe(1);
      expect(ofType('user.provisioned')).toHaveLength(1);
      expect((await store.lookup({ issuer: ENTRA, subject: `sub-${n}` }))?.id).toBe([...ids][0]);
    }
  });
});

describe('provisioner.directory: deprovisioning', () => {
  it('setActive(false) disables and revokes sessions (actor scim), refused at once; true enables; no-ops emit nothing', async () => {
    const { events, provisioner, directory } = setup();
    const { record } = await directory.createUser(person('ed'));
    await provisioner.ensureUserExists({ issuer: ENTRA, subject: 'sub-ed', externalId: 'oid-ed' });
    const disabled = await directory.setActive(record.user.id, false);
    expect(disabled.status).toBe('disabled');
    expect(disabled.tokensValidAfter).toBeInstanceOf(Date);
    await expect(provisioner.ensureUserExists({ issuer: ENTRA, subject: 'sub-ed' })).rejects.toMatchObject({
      code: 'user_disabled',
    });
    await directory.setActive(record.user.id, false);
    await directory.setActive(record.user.id, true);
    await directory.setActive(record.user.id, true);
    const changes = events.filter((event) => event.type !== 'user.provisioned');
    expect(changes.map((event) => [event.type, event.actor])).toEqual([
      ['user.disabled', 'scim'],
      ['user.sessions_revoked', 'scim'],
      ['user.enabled', 'scim'],
    ]);
    expect((await provisioner.ensureUserExists({ issuer: ENTRA, subject: 'sub-ed' })).user.id).toBe(
      record.user.id,
    );
  });

  it("onDelete 'disable' hides the user from SCIM; a re-create of its externalId re-activates that same row", async () => {
    const { directory } = setup();
    const { record } = await directory.createUser(person('flo'));
    expect(await directory.removeUser(record.user.id)).toBe(true);
    expect(await directory.scim.getUser(ENTRA, record.user.id)).toBeNull();
    expect(await directory.removeUser(record.user.id)).toBe(false);
    const again = await directory.createUser(person('flo'));
    expect(again.created).toBe(false);
    expect(again.record.user.id).toBe(record.user.id);
    expect((await directory.setActive(record.user.id, true)).status).toBe('active');
  });

  it("onDelete 'delete' erases the row (user.deleted, actor scim)", async () => {
    const { ofType, provisioner } = setup();
    const directory = provisioner.directory?.({ issuer: ENTRA, onDelete: 'delete' });
    const { record } = (await directory?.createUser(person('gus'))) ?? {};
    expect(await directory?.removeUser(record?.user.id ?? '')).toBe(true);
    expect(await provisioner.getUser(record?.user.id ?? '')).toBeNull();
    expect(ofType('user.deleted').map((event) => event.actor)).toEqual(['scim']);
  });
});

describe('provisioner.directory in outbox mode', () => {
  it('writes every change as a durable event with actor scim, the creation in the same step as the row', async () => {
    const { events, store, provisioner, directory } = setup({ hookDelivery: 'outbox' });
    const { record } = await directory.createUser(person('olga'));
    await directory.createGroup({
      displayName: 'App Admins',
      externalId: null,
      attributes: {},
      members: [record.user.id],
    });
    await directory.setActive(record.user.id, false);
    const expected = [
      ['user.provisioned', 'scim'],
      ['user.role_changed', 'scim'],
      ['user.disabled', 'scim'],
      ['user.sessions_revoked', 'scim'],
    ];
    const written = await store.outbox.list({ userIds: [record.user.id] });
    expect(written.map((event) => [event.type, event.actor])).toEqual(expected);
    // Delivered by the dispatcher, asynchronously: wait for it with a deadline.
    await vi.waitFor(() => expect(events).toHaveLength(expected.length), { timeout: 10_000 });
    expect(events.map((event) => [event.type, event.actor])).toEqual(expected);
    await provisioner.close();
  });
});

describe('provisioner.directory: roles from groups', () => {
  it('a mapped group gives its role (source scim); leaving it hands the default back; one event per change', async () => {
    const { ofType, provisioner, directory } = setup();
    const { record } = await directory.createUser(person('hal'));
    const id = record.user.id;
    const group = await directory.createGroup({
      displayName: 'App Admins',
      externalId: null,
      attributes: {},
      members: [id],
    });
    expect(await provisioner.getUser(id)).toMatchObject({ role: 'admin', roleSource: 'scim' });
    await directory.createGroup({
      displayName: 'Editors',
      externalId: 'grp-editors',
      attributes: {},
      members: [id],
    });
    expect((await provisioner.getUser(id))?.role).toBe('admin'); // admin is listed first in allow
    await directory.changeMembers(group.id, { remove: [id] });
    expect(await provisioner.getUser(id)).toMatchObject({ role: 'editor', roleSource: 'scim' });
    await directory.changeMembers(group.id, { remove: [id] }); // no change, no event
    expect(ofType('user.role_changed').map((event) => [event.data?.['to'], event.actor])).toEqual([
      ['admin', 'scim'],
      ['editor', 'scim'],
    ]);
  });

  it('a local grant is never overwritten by a group', async () => {
    const { provisioner, directory } = setup();
    const { record } = await directory.createUser(person('ivy'));
    await provisioner.setRole(record.user.id, 'owner');
    await directory.createGroup({
      displayName: 'App Admins',
      externalId: null,
      attributes: {},
      members: [record.user.id],
    });
    expect(await provisioner.getUser(record.user.id)).toMatchObject({ role: 'owner', roleSource: 'local' });
  });

  it('refuses a bad set-up at once: untrusted issuer, a mapped role outside allow', () => {
    const { provisioner } = setup();
    expect(() => provisioner.directory?.({ issuer: 'https://evil.example.com' })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
    expect(() =>
      provisioner.directory?.({ issuer: ENTRA, groupRoles: { map: { g: 'root' }, allow: ['admin'] } }),
    ).toThrow(expect.objectContaining({ code: 'configuration_error' }));
  });
});
