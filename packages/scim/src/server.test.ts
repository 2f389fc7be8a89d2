import { createProvisioner, type IssuerConfig } from '@jit-provision/core';
import { createMemoryStore } from '@jit-provision/store-memory';
import { describe, expect, it } from 'vitest';
import { ERROR_SCHEMA } from './errors';
import { ENTERPRISE_URN, USER_URN } from './filter';
import { type ScimServerOptions, scimServer } from './server';
import { ADAPTERS, type Send } from './test-support/apps';

const ENTRA = 'https://login.microsoftonline.com/tenant-1/v2.0';
const TOKEN = 'scim-test-token-0123456789abcdefghij';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const issuers: IssuerConfig[] = [{ issuer: ENTRA, audience: 'api', externalIdClaim: 'oid' }];

function setup(
  mount: (routes: ScimServerOptions extends never ? never : ReturnType<typeof scimServer>['routes']) => Send,
  extra: Partial<ScimServerOptions> = {},
) {
  const store = createMemoryStore();
  const provisioner = createProvisioner({ store, issuers });
  const scim = scimServer({
    provisioner,
    issuer: ENTRA,
    tokens: [TOKEN],
    groups: { roles: { map: { 'App Admins': 'admin' }, allow: ['admin', 'user'] } },
    ...extra,
  });
  const raw = mount(scim.routes);
  const send: Send = (method, path, options = {}) =>
    raw(method, path, { ...options, headers: { ...AUTH, ...options.headers } });
  return { provisioner, send, raw };
}

const user = (n: string, extra: Record<string, unknown> = {}) => ({
  schemas: [USER_URN],
  userName: `${n}@example.com`,
  externalId: `oid-${n}`,
  name: { givenName: n, familyName: 'Test' },
  emails: [{ value: `${n}@example.com`, type: 'work', primary: true }],
  active: true,
  ...extra,
});

const isScimError = (body: unknown, status: number, scimType?: string) =>
  expect(body).toEqual({
    schemas: [ERROR_SCHEMA],
    status: String(status),
    ...(scimType === undefined ? {} : { scimType }),
    detail: expect.any(String),
  });

describe.each(ADAPTERS)('SCIM over %s', (_name, mount) => {
  it('401 with the SCIM Error body and WWW-Authenticate: no token, a wrong token', async () => {
    const { raw } = setup(mount);
    const none = await raw('GET', '/Users');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.headers['content-type']).toMatch(/^application\/scim\+json/);
    isScimError(none.body, 401);
    const wrong = await raw('POST', '/Users', {
      body: user('x'),
      headers: { authorization: `Bearer ${'w'.repeat(40)}` },
    });
    expect(wrong.status).toBe(401);
    isScimError(wrong.body, 401);
  });

  it('create (Okta password dropped), get, 409 on a duplicate, 400 without userName', async () => {
    const { send } = setup(mount);
    const made = await send('POST', '/Users', { body: user('ada', { password: 'Secret-1234' }) });
    expect(made.status).toBe(201);
    expect(made.headers['content-type']).toMatch(/^application\/scim\+json/);
    const id = made.body.id as string;
    expect(made.headers['location']).toBe(`Users/${id}`);
    expect(made.headers['etag']).toBe(made.body.meta.version);
    expect(made.body).toMatchObject({
      schemas: [USER_URN],
      userName: 'ada@example.com',
      externalId: 'oid-ada',
      active: true,
      groups: [],
      meta: { resourceType: 'User', location: `Users/${id}` },
    });
    expect(made.body.password).toBeUndefined();
    const got = await send('GET', `/Users/${id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(made.body);
    const dup = await send('POST', '/Users', {
      body: user('ada', { externalId: 'oid-other', userName: 'ADA@example.com' }),
    });
    expect(dup.status).toBe(409);
    isScimError(dup.body, 409, 'uniqueness');
    const nameless = await send('POST', '/Users', { body: { schemas: [USER_URN], externalId: 'oid-n' } });
    expect(nameless.status).toBe(400);
    isScimError(nameless.body, 400, 'invalidValue');
  });

  it('list: filters (case-insensitive userName, externalId, co), paging, attributes, invalidFilter, empty result', async () => {
    const { send } = setup(mount);
    for (const n of ['ann', 'bob', 'cat'])
      expect((await send('POST', '/Users', { body: user(n) })).status).toBe(201);
    const q = (query: string) => send('GET', `/Users?${query}`);
    const byName = await q(`filter=${encodeURIComponent('userName eq "BOB@Example.com"')}`);
    expect(byName.body).toMatchObject({
      totalResults: 1,
      startIndex: 1,
      itemsPerPage: 1,
      Resources: [{ userName: 'bob@example.com' }],
    });
    expect((await q(`filter=${encodeURIComponent('externalId eq "oid-cat"')}`)).body.totalResults).toBe(1);
    expect(
      (
        await q(
          `filter=${encodeURIComponent('(userName co "nn" or userName sw "c") and not (userName sw "c")')}`,
        )
      ).body.totalResults,
    ).toBe(1);
    const none = await q(`filter=${encodeURIComponent('userName eq "nobody@example.com"')}`);
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ totalResults: 0, Resources: [] });
    const page = await q('startIndex=2&count=1');
    expect(page.body).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 });
    const slim = await q('attributes=userName&count=1');
    expect(Object.keys(slim.body.Resources[0]).sort()).toEqual(['id', 'meta', 'schemas', 'userName']);
    const without = await q('excludedAttributes=emails,name&count=1');
    expect(without.body.Resources[0].emails).toBeUndefined();
    expect(without.body.Resources[0].userName).toBeDefined();
    const bad = await q(`filter=${encodeURIComponent('nickName eq "x"')}`);
    expect(bad.status).toBe(400);
    isScimError(bad.body, 400, 'invalidFilter');
    expect((await q('count=abc')).status).toBe(400);
  });

  it('PATCH as Entra ID sends it: Replace active "False" disables; no path; enterprise colon path; value path; no-op 200', async () => {
    const { send, provisioner } = setup(mount);
    const id = (await send('POST', '/Users', { body: user('eve') })).body.id as string;
    const patch = (Operations: unknown[]) =>
      send('PATCH', `/Users/${id}`, {
        body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations },
      });
    const off = await patch([{ op: 'Replace', path: 'active', value: 'False' }]);
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    expect((await provisioner.getUser(id))?.status).toBe('disabled');
    const on = await patch([{ op: 'replace', value: { active: true, 'name.givenName': 'Evelyn' } }]);
    expect(on.body).toMatchObject({ active: true, name: { givenName: 'Evelyn' } });
    expect((await provisioner.getUser(id))?.status).not.toBe('disabled');
    const more = await patch([
      { op: 'Add', path: `${ENTERPRISE_URN}:manager`, value: { value: 'boss-id' } },
      { op: 'replace', path: 'emails[type eq "work"].value', value: 'evelyn@example.com' },
      { op: 'add', path: 'phoneNumbers[type eq "mobile"].value', value: '+15550100' },
    ]);
    expect(more.body.schemas).toEqual([USER_URN, ENTERPRISE_URN]);
    expect(more.body[ENTERPRISE_URN]).toEqual({ manager: { value: 'boss-id' } });
    expect(more.body.emails).toEqual([{ value: 'evelyn@example.com', type: 'work', primary: true }]);
    expect(more.body.phoneNumbers).toEqual([{ type: 'mobile', value: '+15550100' }]);
    expect((await provisioner.getUser(id))?.email).toBe('evelyn@example.com');
    const version = more.body.meta.version;
    const noop = await patch([{ op: 'replace', path: 'userName', value: 'eve@example.com' }]);
    expect(noop.status).toBe(200);
    expect(noop.body.meta.version).toBe(version);
    const stale = await send('PATCH', `/Users/${id}`, {
      body: { Operations: [{ op: 'replace', path: 'title', value: 'x' }] },
      headers: { 'if-match': 'W/"0"' },
    });
    expect(stale.status).toBe(412);
    isScimError(stale.body, 412);
  });

  it('PUT as Okta sends it (the whole resource, active false), DELETE 204 then 404, a re-POST re-activates the row', async () => {
    const { send, provisioner } = setup(mount);
    const id = (await send('POST', '/Users', { body: user('oki') })).body.id as string;
    const put = await send('PUT', `/Users/${id}`, {
      body: { ...user('oki', { active: false }), id, displayName: 'Oki Doki' },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ active: false, displayName: 'Oki Doki' });
    expect(await provisioner.getUser(id)).toMatchObject({ status: 'disabled', name: 'Oki Doki' });
    expect((await send('DELETE', `/Users/${id}`)).status).toBe(204);
    const gone = await send('GET', `/Users/${id}`);
    expect(gone.status).toBe(404);
    isScimError(gone.body, 404);
    expect((await send('DELETE', `/Users/${id}`)).status).toBe(404);
    expect((await send('PATCH', `/Users/${id}`, { body: { Operations: [] } })).status).toBe(404);
    const { active: _, ...withoutActive } = user('oki');
    const again = await send('POST', '/Users', { body: withoutActive });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ id, active: true });
    expect(await provisioner.getUser(id)).toMatchObject({ status: 'active' });
  });

  it('groups: create with members gives the mapped role; PATCH remove/add/replace members; filter; delete', async () => {
    const { send, provisioner } = setup(mount);
    const a = (await send('POST', '/Users', { body: user('gia') })).body.id as string;
    const b = (await send('POST', '/Users', { body: user('gus') })).body.id as string;
    const made = await send('POST', '/Groups', {
      body: {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: 'App Admins',
        externalId: 'g1',
        members: [{ value: a }],
      },
    });
    expect(made.status).toBe(201);
    const gid = made.body.id as string;
    expect(made.body.members.map((m: { value: string }) => m.value)).toEqual([a]);
    expect(await provisioner.getUser(a)).toMatchObject({ role: 'admin', roleSource: 'scim' });
    expect((await send('GET', `/Users/${a}`)).body.groups).toEqual([
      { value: gid, display: 'App Admins', type: 'direct' },
    ]);
    const patch = (Operations: unknown[]) => send('PATCH', `/Groups/${gid}`, { body: { Operations } });
    expect((await patch([{ op: 'Add', path: 'members', value: [{ value: b }] }])).body.members).toHaveLength(
      2,
    );
    expect((await provisioner.getUser(b))?.role).toBe('admin');
    await patch([{ op: 'Remove', path: `members[value eq "${a}"]` }]);
    expect((await provisioner.getUser(a))?.role).not.toBe('admin');
    await patch([{ op: 'remove', path: 'members', value: [{ value: b }] }]);
    expect((await provisioner.getUser(b))?.role).not.toBe('admin');
    const replaced = await patch([
      { op: 'replace', path: 'members', value: [{ value: a }] },
      { op: 'replace', value: { displayName: 'App Admins' } },
    ]);
    expect(replaced.body.members.map((m: { value: string }) => m.value)).toEqual([a]);
    const found = await send(
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName eq "app admins"')}&excludedAttributes=members`,
    );
    expect(found.body).toMatchObject({
      totalResults: 1,
      Resources: [{ id: gid, displayName: 'App Admins' }],
    });
    expect(found.body.Resources[0].members).toBeUndefined();
    const put = await send('PUT', `/Groups/${gid}`, {
      body: { displayName: 'Renamed', members: [{ value: b }] },
    });
    expect(put.body.members.map((m: { value: string }) => m.value)).toEqual([b]);
    expect((await send('DELETE', `/Groups/${gid}`)).status).toBe(204);
    expect((await send('GET', `/Groups/${gid}`)).status).toBe(404);
    expect((await provisioner.getUser(b))?.role).not.toBe('admin');
  });

  it('racing POSTs of one person end on one row: one 201, the others 409 uniqueness', async () => {
    const { send, provisioner } = setup(mount);
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => send('POST', '/Users', { body: user('race') })),
    );
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 201)) isScimError(answer.body, 409, 'uniqueness');
    const ids = new Set(
      answers.filter((answer) => answer.status === 201).map((answer) => answer.body.id as string),
    );
    const listed = await send('GET', `/Users?filter=${encodeURIComponent('externalId eq "oid-race"')}`);
    expect(listed.body.totalResults).toBe(1);
    expect(await provisioner.getUser([...ids][0] ?? '')).toMatchObject({ externalId: 'oid-race' });
  });

  it('discovery: ServiceProviderConfig, Schemas, ResourceTypes', async () => {
    const { send } = setup(mount, { maxResults: 50 });
    const config = await send('GET', '/ServiceProviderConfig');
    expect(config.body).toMatchObject({
      patch: { supported: true },
      filter: { supported: true, maxResults: 50 },
      bulk: { supported: false },
    });
    expect((await send('GET', '/Schemas')).body.totalResults).toBe(3);
    expect((await send('GET', `/Schemas/${USER_URN}`)).body.id).toBe(USER_URN);
    expect((await send('GET', '/ResourceTypes/User')).body.schemaExtensions).toEqual([
      { schema: ENTERPRISE_URN, required: false },
    ]);
    expect((await send('GET', '/ResourceTypes/Nope')).status).toBe(404);
  });

  it('body errors in the SCIM shape: bad JSON 400 invalidSyntax, too large 413', async () => {
    const { send } = setup(mount, { maxBodyBytes: 1_024 });
    const bad = await send('POST', '/Users', { text: '{"userName":' });
    expect(bad.status).toBe(400);
    isScimError(bad.body, 400, 'invalidSyntax');
    const big = await send('POST', '/Users', { body: user('big', { title: 'x'.repeat(2_000) }) });
    expect(big.status).toBe(413);
    isScimError(big.body, 413);
    const json = await send('POST', '/Users', {
      body: user('plain'),
      headers: { 'content-type': 'application/json' },
    });
    expect(json.status).toBe(201);
  });
});

describe('scimServer start-up', () => {
  const provisioner = createProvisioner({ store: createMemoryStore(), issuers });
  const refused = (options: Partial<ScimServerOptions>) => {
    try {
      scimServer({ provisioner, issuer: ENTRA, tokens: [TOKEN], ...options } as ScimServerOptions);
    } catch (err) {
      return (err as { code?: string }).code;
    }
    return 'accepted';
  };

  it('ConfigurationError: no tokens nor authorize, a short token, an untrusted issuer, a store without scim, a role outside allow', () => {
    expect(refused({})).toBe('accepted');
    expect(refused({ tokens: [] })).toBe('configuration_error');
    expect(refused({ tokens: ['short'] })).toBe('configuration_error');
    expect(refused({ issuer: 'https://evil.example.com' })).toBe('configuration_error');
    expect(refused({ groups: { roles: { map: { Admins: 'root' }, allow: ['admin'] } } })).toBe(
      'configuration_error',
    );
    expect(refused({ maxResults: 0 })).toBe('configuration_error');
    const { scim: _scim, ...bare } = createMemoryStore();
    const withoutScim = createProvisioner({ store: bare, issuers });
    expect(() => scimServer({ provisioner: withoutScim, issuer: ENTRA, tokens: [TOKEN] })).toThrow(
      expect.objectContaining({ code: 'configuration_error' }),
    );
  });
});
