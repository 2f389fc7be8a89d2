import { randomBytes } from 'node:crypto';
import type { NewUser, ScimFilter, ScimNewUser, ScimUserFilterAttribute } from '@jit-provision/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStore, type PostgresStore } from './index';
import { createTestDatabase, type TestDatabase } from './test-support/database';

let db: TestDatabase;
let store: PostgresStore;
beforeAll(async () => {
  db = await createTestDatabase('scim');
  store = createPostgresStore({ pool: db.pool, schema: db.schema, listen: false });
});
afterAll(async () => {
  await db?.close();
});

// Uniqueness is per issuer and the database is shared: every test has its own.
const newIssuer = () => `https://scim-${randomBytes(5).toString('hex')}.test`;
const hex = () => randomBytes(5).toString('hex');

const scimUser = (issuer: string, extra: Partial<ScimNewUser> = {}): ScimNewUser => {
  const externalId = extra.externalId === undefined ? `ext-${hex()}` : extra.externalId;
  return {
    issuer,
    subject: null,
    username: `scim:${hex()}`,
    role: 'user',
    userName: `user-${hex()}@example.com`,
    externalId,
    attributes: { displayName: 'Ada Lovelace', name: { givenName: 'Ada', familyName: 'Lovelace' } },
    email: 'ada@example.com',
    name: 'Ada Lovelace',
    ...extra,
  };
};
const login = (issuer: string, subject: string, extra: Partial<NewUser> = {}): NewUser => ({
  issuer,
  subject,
  username: `oidc:t:${subject}`,
  role: 'user',
  ...extra,
});
const page = { startIndex: 1, count: 100 };
const identity = (issuer: string, subject: string) => ({
  issuer,
  subject,
  email: null,
  name: null,
  tenantId: null,
  claims: {},
});

describe('SCIM users: one row per person, whoever comes first', () => {
  it('a SCIM create leaves the row unbound; the first login with its externalId binds it, created false', async () => {
    const issuer = newIssuer();
    const input = scimUser(issuer, { emitEvent: { identity: identity(issuer, ''), actor: 'scim' } });
    const { record, created } = await store.scim.createUser(input);
    expect(created).toBe(true);
    expect(record.user).toMatchObject({
      subject: '',
      externalId: input.externalId,
      email: 'ada@example.com',
    });
    expect(record).toMatchObject({ userName: input.userName, version: 1, attributes: input.attributes });
    expect(await store.lookup({ issuer, subject: '' })).toBeNull();

    const bound = await store.upsert(
      login(issuer, 'sub-1', {
        externalId: input.externalId as string,
        emitEvent: { identity: identity(issuer, 'sub-1') },
      }),
    );
    expect(bound).toMatchObject({ created: false, user: { id: record.user.id, subject: 'sub-1' } });
    expect(bound.user.username).toBe('oidc:t:sub-1');
    expect((await store.lookup({ issuer, subject: 'sub-1' }))?.id).toBe(record.user.id);
    // One user.provisioned, by whichever came first.
    const events = await store.outbox.list({ userIds: [record.user.id] });
    expect(events.map((e) => e.type)).toEqual(['user.provisioned']);
  });

  it('a login that came first is adopted by the SCIM create of its externalId: same id, created false', async () => {
    const issuer = newIssuer();
    const first = await store.upsert(login(issuer, 'sub-2', { externalId: 'oid-2' }));
    expect(first.created).toBe(true);
    expect(first.user.externalId).toBe('oid-2');
    const { record, created } = await store.scim.createUser(scimUser(issuer, { externalId: 'oid-2' }));
    expect(created).toBe(false);
    expect(record.user).toMatchObject({ id: first.user.id, subject: 'sub-2', name: 'Ada Lovelace' });
    // The second SCIM create of that externalId is a conflict, not a second adoption.
    await expect(store.scim.createUser(scimUser(issuer, { externalId: 'oid-2' }))).rejects.toMatchObject({
      code: 'scim_conflict',
      attribute: 'externalId',
    });
  });

  it('a SCIM create with the subject (Okta) binds at once; a login of it finds the row', async () => {
    const issuer = newIssuer();
    const { record } = await store.scim.createUser(
      scimUser(issuer, { subject: 'okta-1', externalId: 'okta-1', username: 'oidc:t:okta-1' }),
    );
    expect(record.user.subject).toBe('okta-1');
    const again = await store.upsert(login(issuer, 'okta-1', { externalId: 'okta-1' }));
    expect(again).toMatchObject({ created: false, user: { id: record.user.id } });
  });

  it("a login whose externalId is bound to another subject is refused with scim_conflict('externalId')", async () => {
    const issuer = newIssuer();
    await store.scim.createUser(scimUser(issuer, { subject: 'a', externalId: 'shared' }));
    await expect(store.upsert(login(issuer, 'b', { externalId: 'shared' }))).rejects.toMatchObject({
      code: 'scim_conflict',
      attribute: 'externalId',
    });
    const rows = await db.pool.query(`SELECT 1 FROM "${db.schema}".users WHERE issuer = $1`, [issuer]);
    expect(rows.rows).toHaveLength(1);
  });

  it('bind: an unbound row is bound; the same subject again answers it; another subject or none is null', async () => {
    const issuer = newIssuer();
    const { record } = await store.scim.createUser(scimUser(issuer, { externalId: 'e-1' }));
    const key = { issuer, subject: 's-1', externalId: 'e-1', username: 'oidc:t:s-1' };
    expect((await store.scim.bind(key))?.id).toBe(record.user.id);
    expect((await store.scim.bind(key))?.subject).toBe('s-1');
    expect(await store.scim.bind({ ...key, subject: 's-2', username: 'oidc:t:s-2' })).toBeNull();
    expect(await store.scim.bind({ ...key, externalId: 'nobody' })).toBeNull();
  });

  it('userName is unique per issuer case-insensitively, and a refused create leaves no row behind', async () => {
    const issuer = newIssuer();
    await store.scim.createUser(scimUser(issuer, { userName: 'Grace@Example.com' }));
    const clash = scimUser(issuer, { userName: 'grace@example.COM' });
    await expect(store.scim.createUser(clash)).rejects.toMatchObject({
      code: 'scim_conflict',
      attribute: 'userName',
    });
    const rows = await db.pool.query(`SELECT 1 FROM "${db.schema}".users WHERE external_id = $1`, [
      clash.externalId,
    ]);
    expect(rows.rows).toEqual([]);
    // Another issuer may use it.
    expect(
      (await store.scim.createUser(scimUser(newIssuer(), { userName: 'grace@example.com' }))).created,
    ).toBe(true);
  });

  it('a hidden user is absent from reads, frees its userName, and a re-POST of its externalId re-activates it', async () => {
    const issuer = newIssuer();
    const input = scimUser(issuer, { userName: 'hidden@example.com' });
    const { record } = await store.scim.createUser(input);
    expect(await store.scim.hideUser(issuer, record.user.id)).toBe(true);
    expect(await store.scim.hideUser(issuer, record.user.id)).toBe(false);
    expect(await store.scim.getUser(issuer, record.user.id)).toBeNull();
    expect((await store.scim.findUsers(issuer, page)).totalResults).toBe(0);
    expect(await store.scim.replaceUser(issuer, record.user.id, input)).toBeNull();

    const back = await store.scim.createUser({ ...input, userName: 'back@example.com' });
    expect(back).toMatchObject({ created: false, record: { userName: 'back@example.com', version: 3 } });
    expect(back.record.user.id).toBe(record.user.id);
    expect(back.record.createdAt).toEqual(record.createdAt);
    expect((await store.scim.getUser(issuer, record.user.id))?.userName).toBe('back@example.com');
  });

  it('getUser is scoped by issuer and answers null for a row SCIM never saw', async () => {
    const issuer = newIssuer();
    const { record } = await store.scim.createUser(scimUser(issuer));
    expect((await store.scim.getUser(issuer, record.user.id))?.user.id).toBe(record.user.id);
    expect(await store.scim.getUser(newIssuer(), record.user.id)).toBeNull();
    const plain = await store.upsert(login(issuer, 'plain'));
    expect(await store.scim.getUser(issuer, plain.user.id)).toBeNull();
    expect(await store.scim.getUser(issuer, "'; DROP TABLE users; --")).toBeNull();
  });
});

describe('SCIM replaceUser', () => {
  it('replaces the attributes and the row profile, bumps the version, writes its event in the same transaction', async () => {
    const issuer = newIssuer();
    const { record } = await store.scim.createUser(scimUser(issuer));
    const write = {
      userName: 'renamed@example.com',
      externalId: null,
      attributes: { displayName: 'Ada King', emails: [{ value: 'king@example.com', primary: true }] },
      email: 'king@example.com',
      name: 'Ada King',
    };
    const event = { type: 'user.role_changed' as const, actor: 'scim', data: { via: 'put' } };
    const replaced = await store.scim.replaceUser(issuer, record.user.id, write, { ifVersion: 1, event });
    expect(replaced).toMatchObject({
      userName: 'renamed@example.com',
      version: 2,
      attributes: write.attributes,
    });
    // A null externalId keeps the join key.
    expect(replaced?.user).toMatchObject({
      email: 'king@example.com',
      name: 'Ada King',
      externalId: record.user.externalId,
    });
    const events = await store.outbox.list({ userIds: [record.user.id] });
    expect(events).toEqual([
      expect.objectContaining({ type: 'user.role_changed', actor: 'scim', data: { via: 'put' } }),
    ]);
    expect(events[0]?.identity).toEqual({ issuer, subject: '' });

    await expect(
      store.scim.replaceUser(issuer, record.user.id, write, { ifVersion: 1 }),
    ).rejects.toMatchObject({
      code: 'scim_conflict',
      attribute: 'version',
    });
    expect(await store.scim.replaceUser(issuer, 'absent', write)).toBeNull();
    expect(await store.scim.replaceUser(newIssuer(), record.user.id, write)).toBeNull();
  });

  it('a replace onto a taken userName is scim_conflict(userName) and changes nothing', async () => {
    const issuer = newIssuer();
    await store.scim.createUser(scimUser(issuer, { userName: 'taken@example.com' }));
    const { record } = await store.scim.createUser(scimUser(issuer));
    const write = {
      userName: 'TAKEN@example.com',
      externalId: null,
      attributes: {},
      email: 'x@example.com',
      name: null,
    };
    await expect(store.scim.replaceUser(issuer, record.user.id, write)).rejects.toMatchObject({
      code: 'scim_conflict',
      attribute: 'userName',
    });
    const after = await store.scim.getUser(issuer, record.user.id);
    expect(after).toMatchObject({
      userName: record.userName,
      version: 1,
      user: { email: 'ada@example.com' },
    });
  });
});

describe('SCIM findUsers: paging and filters as parameterised SQL', () => {
  const find = (issuer: string, filter: ScimFilter<ScimUserFilterAttribute>) =>
    store.scim.findUsers(issuer, { ...page, filter }).then((p) => p.resources.map((r) => r.userName).sort());

  it('pages by 1-based startIndex in creation order; count 0 answers only the total', async () => {
    const issuer = newIssuer();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await store.scim.createUser(scimUser(issuer))).record.user.id);
    const second = await store.scim.findUsers(issuer, { startIndex: 2, count: 2 });
    expect(second.totalResults).toBe(5);
    expect(second.resources.map((r) => r.user.id)).toEqual(ids.slice(1, 3));
    expect(await store.scim.findUsers(issuer, { startIndex: 1, count: 0 })).toEqual({
      totalResults: 5,
      resources: [],
    });
    expect((await store.scim.findUsers(issuer, { startIndex: 9, count: 10 })).resources).toEqual([]);
  });

  it('hostile values (quotes, %, _, backslashes, SQL) are data: matched literally, never as SQL or wildcards', async () => {
    const issuer = newIssuer();
    const names = [
      `o'brien@x.test`,
      '100%@x.test',
      'a_b@x.test',
      'back\\slash@x.test',
      'plain@x.test',
      'axb@x.test',
    ];
    for (const userName of names) await store.scim.createUser(scimUser(issuer, { userName }));
    expect(await find(issuer, { op: 'eq', attribute: 'userName', value: `O'Brien@X.test` })).toEqual([
      `o'brien@x.test`,
    ]);
    expect(await find(issuer, { op: 'co', attribute: 'userName', value: '%' })).toEqual(['100%@x.test']);
    expect(await find(issuer, { op: 'sw', attribute: 'userName', value: 'a_' })).toEqual(['a_b@x.test']);
    expect(await find(issuer, { op: 'co', attribute: 'userName', value: '\\' })).toEqual([
      'back\\slash@x.test',
    ]);
    expect(await find(issuer, { op: 'ew', attribute: 'userName', value: "'" })).toEqual([]);
    expect(await find(issuer, { op: 'eq', attribute: 'userName', value: "x' OR '1'='1" })).toEqual([]);
    expect(
      await find(issuer, { op: 'eq', attribute: 'displayName', value: "'); DROP TABLE users; --" }),
    ).toEqual([]);
    expect((await store.scim.findUsers(issuer, page)).totalResults).toBe(names.length);
  });

  it('every operator, and/or/not, case rules, active, dates, ids and emails value paths', async () => {
    const issuer = newIssuer();
    const mk = (userName: string, attributes: Record<string, unknown>, externalId: string) =>
      store.scim.createUser(scimUser(issuer, { userName, attributes, externalId }));
    const ann = await mk(
      'ann',
      { displayName: 'Ann', emails: [{ value: 'Ann@Work.test', type: 'work', primary: true }] },
      'EXT-A',
    );
    await mk(
      'bob',
      {
        displayName: 'Bob',
        name: { givenName: 'Bob' },
        emails: [{ value: 'bob@home.test', type: 'home', primary: 'False' }],
      },
      'ext-b',
    );
    await mk('cid', { emails: 'not an array' }, 'ext-c');
    await store.users.setStatus(ann.record.user.id, 'disabled');

    expect(await find(issuer, { op: 'eq', attribute: 'userName', value: 'ANN' })).toEqual(['ann']);
    expect(await find(issuer, { op: 'ne', attribute: 'userName', value: 'ann' })).toEqual(['bob', 'cid']);
    expect(await find(issuer, { op: 'gt', attribute: 'userName', value: 'ann' })).toEqual(['bob', 'cid']);
    expect(await find(issuer, { op: 'ge', attribute: 'userName', value: 'bob' })).toEqual(['bob', 'cid']);
    expect(await find(issuer, { op: 'lt', attribute: 'userName', value: 'bob' })).toEqual(['ann']);
    expect(await find(issuer, { op: 'le', attribute: 'userName', value: 'bob' })).toEqual(['ann', 'bob']);
    expect(await find(issuer, { op: 'ew', attribute: 'userName', value: 'B' })).toEqual(['bob']);
    // externalId is caseExact.
    expect(await find(issuer, { op: 'eq', attribute: 'externalId', value: 'EXT-A' })).toEqual(['ann']);
    expect(await find(issuer, { op: 'eq', attribute: 'externalId', value: 'ext-a' })).toEqual([]);
    expect(await find(issuer, { op: 'pr', attribute: 'displayName' })).toEqual(['ann', 'bob']);
    expect(await find(issuer, { op: 'not', filter: { op: 'pr', attribute: 'displayName' } })).toEqual([
      'cid',
    ]);
    expect(
      await find(issuer, { op: 'not', filter: { op: 'eq', attribute: 'displayName', value: 'ann' } }),
    ).toEqual(['bob', 'cid']);
    expect(await find(issuer, { op: 'eq', attribute: 'name.givenName', value: 'bob' })).toEqual(['bob']);
    expect(await find(issuer, { op: 'eq', attribute: 'active', value: false })).toEqual(['ann']);
    expect(await find(issuer, { op: 'eq', attribute: 'active', value: 'True' })).toEqual(['bob', 'cid']);
    expect(
      await find(issuer, {
        op: 'or',
        left: { op: 'eq', attribute: 'userName', value: 'ann' },
        right: {
          op: 'and',
          left: { op: 'sw', attribute: 'displayName', value: 'b' },
          right: { op: 'pr', attribute: 'externalId' },
        },
      }),
    ).toEqual(['ann', 'bob']);
    expect(await find(issuer, { op: 'eq', attribute: 'id', value: ann.record.user.id })).toEqual(['ann']);
    expect(await find(issuer, { op: 'eq', attribute: 'id', value: 'no-such-id' })).toEqual([]);
    const created = ann.record.createdAt;
    expect(await find(issuer, { op: 'ge', attribute: 'meta.created', value: created.toISOString() })).toEqual(
      ['ann', 'bob', 'cid'],
    );
    expect(await find(issuer, { op: 'lt', attribute: 'meta.created', value: created.toISOString() })).toEqual(
      [],
    );
    expect(await find(issuer, { op: 'gt', attribute: 'meta.lastModified', value: 'not a date' })).toEqual([]);
    const email = (filter: ScimFilter<'value' | 'type' | 'primary' | 'display'>) =>
      find(issuer, { op: 'some', attribute: 'emails', filter });
    expect(await email({ op: 'eq', attribute: 'value', value: 'ann@work.test' })).toEqual(['ann']);
    expect(await email({ op: 'co', attribute: 'value', value: '@' })).toEqual(['ann', 'bob']);
    expect(
      await email({
        op: 'and',
        left: { op: 'eq', attribute: 'type', value: 'WORK' },
        right: { op: 'eq', attribute: 'primary', value: true },
      }),
    ).toEqual(['ann']);
    expect(await email({ op: 'eq', attribute: 'primary', value: false })).toEqual(['bob']);
    expect(await email({ op: 'pr', attribute: 'display' })).toEqual([]);
  });

  it('an attribute this store cannot filter on is invalid_field, not a database error', async () => {
    await expect(
      store.scim.findUsers(newIssuer(), {
        ...page,
        filter: { op: 'eq', attribute: 'password' as 'id', value: 'x' },
      }),
    ).rejects.toMatchObject({ code: 'invalid_field' });
    await expect(
      store.scim.findUsers(newIssuer(), {
        ...page,
        filter: { op: 'some', attribute: 'members', filter: { op: 'pr', attribute: 'value' } },
      }),
    ).rejects.toMatchObject({ code: 'invalid_field' });
  });
});

describe('SCIM groups', () => {
  it('create with members (unknown and other-issuer ids ignored), unique displayName, get, find, delete', async () => {
    const issuer = newIssuer();
    const a = (await store.scim.createUser(scimUser(issuer))).record.user.id;
    const b = (await store.scim.createUser(scimUser(issuer))).record.user.id;
    const stranger = (await store.scim.createUser(scimUser(newIssuer()))).record.user.id;
    const group = await store.scim.createGroup(issuer, {
      displayName: 'App Admins',
      externalId: 'g-1',
      attributes: { displayName: 'App Admins' },
      members: [a, b, stranger, 'nobody'],
    });
    expect(group).toMatchObject({ issuer, displayName: 'App Admins', externalId: 'g-1', version: 1 });
    expect([...group.members].sort()).toEqual([a, b].sort());
    await expect(
      store.scim.createGroup(issuer, { displayName: 'app admins', externalId: null, attributes: {} }),
    ).rejects.toMatchObject({ code: 'scim_conflict', attribute: 'displayName' });
    expect((await store.scim.getGroup(issuer, group.id))?.displayName).toBe('App Admins');
    expect(await store.scim.getGroup(newIssuer(), group.id)).toBeNull();
    expect(await store.scim.getGroup(issuer, 'not-a-uuid')).toBeNull();

    const groupFind = (filter: ScimFilter<never> | Parameters<typeof store.scim.findGroups>[1]['filter']) =>
      store.scim.findGroups(issuer, { ...page, filter }).then((p) => p.resources.map((g) => g.id));
    expect(await groupFind({ op: 'eq', attribute: 'displayName', value: 'app ADMINS' })).toEqual([group.id]);
    expect(await groupFind({ op: 'eq', attribute: 'id', value: 'not-a-uuid' })).toEqual([]);
    expect(await groupFind({ op: 'eq', attribute: 'id', value: group.id.toUpperCase() })).toEqual([group.id]);
    expect(
      await groupFind({
        op: 'some',
        attribute: 'members',
        filter: { op: 'eq', attribute: 'value', value: a },
      }),
    ).toEqual([group.id]);
    expect(
      await groupFind({
        op: 'some',
        attribute: 'members',
        filter: { op: 'eq', attribute: 'value', value: stranger },
      }),
    ).toEqual([]);
    expect((await store.scim.findGroups(issuer, { startIndex: 1, count: 0 })).totalResults).toBe(1);

    expect(await store.scim.deleteGroup(issuer, group.id)).toBe(true);
    expect(await store.scim.deleteGroup(issuer, group.id)).toBe(false);
    expect(await store.scim.deleteGroup(issuer, 'not-a-uuid')).toBe(false);
    expect(await store.scim.groupsOf(issuer, a)).toEqual([]);
  });

  it('replaceGroup (ifVersion, members replaced), changeMembers, hidden members, groupsOf, delete cascades', async () => {
    const issuer = newIssuer();
    const ids = await Promise.all(
      [1, 2, 3].map(async () => (await store.scim.createUser(scimUser(issuer))).record.user.id),
    );
    const [a, b, c] = ids as [string, string, string];
    const group = await store.scim.createGroup(issuer, {
      displayName: 'G',
      externalId: null,
      attributes: {},
      members: [a],
    });
    await expect(
      store.scim.replaceGroup(
        issuer,
        group.id,
        { displayName: 'G2', externalId: null, attributes: {} },
        { ifVersion: 7 },
      ),
    ).rejects.toMatchObject({ code: 'scim_conflict', attribute: 'version' });
    const replaced = await store.scim.replaceGroup(
      issuer,
      group.id,
      { displayName: 'G2', externalId: 'x', attributes: { note: 1 }, members: [b, c] },
      { ifVersion: 1 },
    );
    expect(replaced).toMatchObject({ displayName: 'G2', externalId: 'x', version: 2 });
    expect([...(replaced?.members ?? [])].sort()).toEqual([b, c].sort());
    // Without members, the membership stays.
    const kept = await store.scim.replaceGroup(issuer, group.id, {
      displayName: 'G2',
      externalId: null,
      attributes: {},
    });
    expect(kept?.members.length).toBe(2);

    const changed = await store.scim.changeMembers(issuer, group.id, { add: [a, 'nobody'], remove: [b] });
    expect([...(changed?.members ?? [])].sort()).toEqual([a, c].sort());
    expect(await store.scim.changeMembers(issuer, 'not-a-uuid', { add: [a] })).toBeNull();
    expect((await store.scim.groupsOf(issuer, a)).map((g) => g.id)).toEqual([group.id]);

    await store.scim.hideUser(issuer, a);
    expect((await store.scim.getGroup(issuer, group.id))?.members).toEqual([c]);
    expect(await store.scim.groupsOf(issuer, a)).toEqual([]);
    await store.users.delete(c);
    expect((await store.scim.getGroup(issuer, group.id))?.members).toEqual([]);
  });

  it('status counts visible users and groups and the last SCIM write', async () => {
    const issuer = newIssuer();
    expect(await store.scim.status(issuer)).toEqual({ users: 0, groups: 0, lastWrite: null });
    const { record } = await store.scim.createUser(scimUser(issuer));
    await store.scim.createUser(scimUser(issuer));
    await store.scim.hideUser(issuer, record.user.id);
    await store.scim.createGroup(issuer, { displayName: 'G', externalId: null, attributes: {} });
    const status = await store.scim.status(issuer);
    expect(status).toMatchObject({ users: 1, groups: 1 });
    expect(status.lastWrite).toBeInstanceOf(Date);
    expect((await store.scim.status()).users).toBeGreaterThanOrEqual(1);
  });
});
