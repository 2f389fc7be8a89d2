import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listResponse, members, projected, SCHEMAS, scimError } from './checks';
import { scimStepLists } from './index';
import { requestPath, runScimSteps, substituteDeep, valueAt } from './runner';
import type { ScimCase, ScimRequest, ScimSend } from './types';

const TOKEN = 'a-bearer-token-of-at-least-32-bytes-0123456789';

/** A recorder of what the runner sends, answering from `answer`. */
function recorder(answer: (request: ScimRequest) => { status: number; body?: unknown }) {
  const sent: ScimRequest[] = [];
  const request: ScimSend = async (req) => {
    sent.push(req);
    const { status, body } = answer(req);
    return {
      status,
      headers: { 'Content-Type': 'application/scim+json' },
      body: body === undefined ? '' : JSON.stringify(body),
    };
  };
  return { sent, request };
}

const error = (status: number, scimType?: string) => ({
  schemas: [SCHEMAS.error],
  status: String(status),
  ...(scimType === undefined ? {} : { scimType }),
  detail: 'nope',
});

describe('runScimSteps', () => {
  it('substitutes placeholders (encoded in the path and query), keeps saved values, sends the token', async () => {
    const { sent, request } = recorder((req) =>
      req.method === 'POST' ? { status: 201, body: { id: 'a/b c' } } : { status: 200, body: {} },
    );
    const scimCase: ScimCase = {
      list: 'test',
      name: 'two steps',
      vars: (rand) => ({ userName: `u.${rand}@example.com` }),
      steps: [
        {
          name: 'create',
          method: 'POST',
          path: '/Users',
          body: { userName: '{{userName}}', n: 1 },
          status: 201,
          save: { id: 'id' },
        },
        {
          name: 'read',
          method: 'GET',
          path: '/Users/{{id}}',
          query: { filter: 'userName eq "{{userName}}"' },
          status: 200,
        },
      ],
    };
    const report = await runScimSteps({ request, token: TOKEN, steps: [scimCase] });
    expect(report).toMatchObject({ passed: 1, failed: 0 });
    const [create, read] = sent as [ScimRequest, ScimRequest];
    const body = JSON.parse(create.body as string);
    expect(body).toEqual({ userName: expect.stringMatching(/^u\.[0-9a-f]{12}@example\.com$/), n: 1 });
    expect(create.headers).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/scim+json',
    });
    expect(read.path).toBe(`/Users/a%2Fb%20c?filter=${encodeURIComponent(`userName eq "${body.userName}"`)}`);
    expect(read.headers['content-type']).toBeUndefined();
    expect(report.cases[0]?.steps.map((s) => s.outcome)).toEqual(['passed', 'passed']);
  });

  it('a wrong status fails the step with the detail, skips the rest of the case, and the next case still runs', async () => {
    const { sent, request } = recorder((req) =>
      req.path === '/fail' ? { status: 500, body: error(500) } : { status: 200, body: {} },
    );
    const report = await runScimSteps({
      request,
      token: TOKEN,
      steps: [
        {
          list: 'test',
          name: 'broken',
          steps: [
            { name: 'fails', method: 'GET', path: '/fail', status: [200, 204] },
            { name: 'never sent', method: 'GET', path: '/later', status: 200 },
          ],
        },
        { list: 'test', name: 'fine', steps: [{ name: 'ok', method: 'GET', path: '/ok', status: 200 }] },
      ],
    });
    expect(report).toMatchObject({ passed: 1, failed: 1 });
    expect(sent.map((r) => r.path)).toEqual(['/fail', '/ok']);
    const [broken] = report.cases;
    expect(broken?.steps.map((s) => [s.outcome, s.status])).toEqual([
      ['failed', 500],
      ['skipped', null],
    ]);
    expect(broken?.steps[0]?.problems).toEqual(['status 500, expected 200 or 204 (nope)']);
    expect(report.summary).toMatch(
      /^SCIM steps: 1 of 2 cases passed\nFAIL {2}test: broken\npass {2}test: fine\n/,
    );
    expect(report.summary).toContain('fails: GET /fail');
  });

  it('checks, a missing saved value, an unknown placeholder and a thrown request are problems, never throws', async () => {
    let calls = 0;
    const request: ScimSend = async () => {
      calls += 1;
      if (calls === 4) throw new Error('ECONNREFUSED');
      return { status: 200, headers: new Headers({ 'content-type': 'application/json' }), body: 'not json' };
    };
    const one = (step: ScimCase['steps'][number]): ScimCase => ({
      list: 't',
      name: step.name,
      steps: [step],
    });
    const report = await runScimSteps({
      request,
      token: TOKEN,
      steps: [
        one({
          name: 'check',
          method: 'GET',
          path: '/a',
          status: 200,
          checks: [() => 'wrong', () => undefined],
        }),
        one({
          name: 'throws',
          method: 'GET',
          path: '/a',
          status: 200,
          checks: [
            () => {
              throw new Error('boom');
            },
          ],
        }),
        one({ name: 'save', method: 'GET', path: '/a', status: 200, save: { id: 'id' } }),
        one({ name: 'down', method: 'GET', path: '/a', status: 200 }),
        one({ name: 'unknown', method: 'GET', path: '/Users/{{nobody}}', status: 200 }),
      ],
    });
    expect(report.cases.map((c) => c.steps[0]?.problems)).toEqual([
      ['wrong'],
      ['boom'],
      ['no id in the body to keep as {{id}}'],
      ['request failed: ECONNREFUSED'],
      ['request failed: no value for {{nobody}} (no earlier step saved it)'],
    ]);
    expect(calls).toBe(4);
  });

  it('auth: a wrong token is another token of the same length; none sends no Authorization', async () => {
    const { sent, request } = recorder(() => ({ status: 401, body: error(401) }));
    await runScimSteps({
      request,
      token: TOKEN,
      steps: [
        {
          list: 't',
          name: 'auth',
          steps: [
            {
              name: 'wrong',
              method: 'GET',
              path: '/Users',
              auth: 'wrong',
              status: 401,
              checks: [scimError()],
            },
            { name: 'none', method: 'GET', path: '/Users', auth: 'none', status: 401 },
          ],
        },
      ],
    });
    const wrong = sent[0]?.headers['authorization'] as string;
    expect(wrong).toMatch(/^Bearer [\w-]{43}$/);
    expect(wrong).not.toBe(`Bearer ${TOKEN}`);
    expect(sent[1]?.headers['authorization']).toBeUndefined();
  });

  it('baseUrl: requests go over fetch to the SCIM root, bodies as sent', async () => {
    const seen: {
      method: string | undefined;
      url: string | undefined;
      auth: string | undefined;
      body: string;
    }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
        res.writeHead(201, { 'content-type': 'application/scim+json' }).end('{"id":"x"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const report = await runScimSteps({
        baseUrl: `http://127.0.0.1:${port}/scim/v2/`,
        token: TOKEN,
        steps: [
          {
            list: 't',
            name: 'post',
            steps: [{ name: 'post', method: 'POST', path: '/Users', body: { a: 1 }, status: 201 }],
          },
        ],
      });
      expect(report.passed).toBe(1);
      expect(seen).toEqual([
        { method: 'POST', url: '/scim/v2/Users', auth: `Bearer ${TOKEN}`, body: '{"a":1}' },
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('needs baseUrl or request', async () => {
    await expect(runScimSteps({ token: TOKEN, steps: [] })).rejects.toThrow(TypeError);
  });
});

describe('valueAt', () => {
  it('walks dotted paths through objects and arrays; a key with dots (an extension URN) is matched whole', () => {
    const body = {
      Resources: [{ id: 'a' }],
      [SCHEMAS.enterprise]: { manager: { value: 'boss' } },
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0': { wrong: true },
    };
    expect(valueAt(body, 'Resources.0.id')).toBe('a');
    expect(valueAt(body, `${SCHEMAS.enterprise}.manager.value`)).toBe('boss');
    expect(valueAt(body, 'Resources.1.id')).toBeUndefined();
    expect(valueAt(body, 'nope.deeper')).toBeUndefined();
    expect(valueAt('text', 'a')).toBeUndefined();
  });
});

describe('the checks', () => {
  const response = (body: unknown, status = 200) => ({ status, headers: {}, body });
  it('listResponse: schema, numbers, itemsPerPage matching Resources, expectations', () => {
    const list = (total: number, resources: unknown[]) => ({
      schemas: [SCHEMAS.list],
      totalResults: total,
      itemsPerPage: resources.length,
      startIndex: 1,
      Resources: resources,
    });
    expect(listResponse({ total: 0 })(response(list(0, [])), {})).toBeUndefined();
    expect(listResponse({ total: 1 })(response(list(0, [])), {})).toBe('totalResults is 0, expected 1');
    expect(listResponse()(response({ ...list(1, [{}]), itemsPerPage: '1' }), {})).toMatch(/itemsPerPage/);
    expect(listResponse()(response({ totalResults: 0 }), {})).toMatch(/schemas lacks/);
    expect(listResponse({ maxItems: 1 })(response(list(2, [{}, {}])), {})).toMatch(/at most 1/);
  });
  it('scimError: the status as a string, the scimType', () => {
    expect(scimError('invalidValue')(response(error(400, 'invalidValue'), 400), {})).toBeUndefined();
    expect(scimError()(response({ ...error(400), status: 400 }, 400), {})).toMatch(/the string "400"/);
    expect(scimError('invalidFilter')(response(error(400, 'invalidValue'), 400), {})).toMatch(/scimType/);
  });
  it('projected and members', () => {
    const body = { Resources: [{ id: '1', userName: 'a', emails: [] }] };
    expect(projected({ keep: ['id', 'userName'] })(response(body), {})).toBeUndefined();
    expect(projected({ drop: ['emails'] })(response(body), {})).toMatch(/emails is returned/);
    const group = { members: [{ value: 'b' }, { value: 'a' }] };
    expect(members(['{{x}}', 'b'])(response(group), { x: 'a' })).toBeUndefined();
    expect(members(['a'])(response(group), {})).toMatch(/members are/);
  });
});

describe('scimStepLists', () => {
  const placeholders = (value: unknown): string[] =>
    [...JSON.stringify(value ?? null).matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1] as string);

  it.each(scimStepLists.all.map((c) => [`${c.list}: ${c.name}`, c] as const))(
    '%s: every placeholder is made by vars or saved by an earlier step',
    (_name, scimCase) => {
      const known = new Set(['rand', ...Object.keys(scimCase.vars?.('0123456789ab') ?? {})]);
      for (const step of scimCase.steps) {
        const used = placeholders([step.path, step.query, step.body, step.headers]);
        expect(
          used.filter((name) => !known.has(name)),
          step.name,
        ).toEqual([]);
        for (const name of Object.keys(step.save ?? {})) known.add(name);
      }
      // Every request can be built from those values.
      const vars = Object.fromEntries([...known].map((name) => [name, `v-${name}`]));
      for (const step of scimCase.steps) {
        expect(requestPath(step, vars)).toMatch(/^\/(Users|Groups)/);
        expect(() => substituteDeep(step.body, vars)).not.toThrow();
      }
    },
  );

  it('the lists: Okta SPEC, the four parts of Microsoft collection, both cycles; all = their union', () => {
    expect(scimStepLists.oktaSpec.length).toBeGreaterThan(0);
    expect(new Set(scimStepLists.entraReference.map((c) => c.list))).toEqual(
      new Set([
        'entra-reference/users',
        'entra-reference/groups',
        'entra-reference/complex',
        'entra-reference/garbage',
      ]),
    );
    expect(scimStepLists.entraCycle.map((c) => c.list)).toEqual(['entra-cycle']);
    expect(scimStepLists.oktaCycle.map((c) => c.list)).toEqual(['okta-cycle']);
    expect(scimStepLists.all).toEqual([
      ...scimStepLists.oktaSpec,
      ...scimStepLists.entraReference,
      ...scimStepLists.entraCycle,
      ...scimStepLists.oktaCycle,
    ]);
  });

  it('the Okta SPEC case covers each of its steps, the 401 for a wrong token last', () => {
    const steps = scimStepLists.oktaSpec.flatMap((c) => c.steps);
    expect(steps.map((s) => s.status)).toEqual([201, 200, 200, 200, 404, 201, 200, 200, 409, 200, 401]);
    expect(steps.at(-1)?.auth).toBe('wrong');
  });
});
