import { describe, expect, it } from 'vitest';
import { isJitProvisionError, MissingTokenError } from '../errors';
import type { AuthInput } from '../types';
import {
  admitRoute,
  answerRoute,
  bodyErrorResponse,
  declaresBody,
  isJsonMediaType,
  type Route,
  readJsonBody,
  routedPath,
} from './routes';

const encoder = new TextEncoder();
/** A POST whose body arrives in `chunks`, with no content-length (as a chunked upload). */
const streamed = (...chunks: string[]) =>
  new Request('http://x/', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
        controller.close();
      },
    }),
    duplex: 'half',
  } as RequestInit);
const JSON_TYPE = { 'content-type': 'application/json' };
const post = (body: string, headers: Record<string, string> = JSON_TYPE) =>
  new Request('http://x/', { method: 'POST', body, headers });
const code = (err: unknown) => (isJitProvisionError(err) ? err.code : err);

describe('readJsonBody', () => {
  it('parses JSON, across chunks and after a BOM', async () => {
    expect(await readJsonBody(post('{"a":1}', { 'content-type': 'application/scim+json' }), 64)).toEqual({
      a: 1,
    });
    expect(await readJsonBody(streamed('{"a":', '[1,2]', '}'), 64)).toEqual({ a: [1, 2] });
    expect(await readJsonBody(post('\uFEFF{"b":true}'), 64)).toEqual({ b: true });
  });

  it('undefined without a body or with an empty one', async () => {
    expect(await readJsonBody(new Request('http://x/'), 64)).toBeUndefined();
    expect(await readJsonBody(post(''), 64)).toBeUndefined();
  });

  it('413 payload_too_large over the limit, declared or counted while reading', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(100) });
    await expect(readJsonBody(post(big), 64).catch(code)).resolves.toBe('payload_too_large');
    await expect(readJsonBody(streamed(big.slice(0, 50), big.slice(50)), 64).catch(code)).resolves.toBe(
      'payload_too_large',
    );
    expect(await readJsonBody(post(big), big.length)).toEqual({ pad: 'x'.repeat(100) });
  });

  it('400 invalid_request for a body that is not JSON; bodyErrorResponse maps both as it maps a framework’s', async () => {
    const err = await readJsonBody(post('{'), 64).catch((e: unknown) => e);
    expect(code(err)).toBe('invalid_request');
    expect(bodyErrorResponse(err)).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const big = await readJsonBody(post('[1,2,3]'), 2).catch((e: unknown) => e);
    expect(bodyErrorResponse(big)).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
  });
});

describe('the media-type rule', () => {
  it('application/json or application/*+json, charset absent or utf-8; nothing else', () => {
    for (const type of [
      'application/json',
      'Application/JSON',
      'application/json; charset=utf-8',
      'application/json;charset="UTF-8"',
      'application/scim+json',
      'application/vnd.api+json; charset=utf-8',
    ])
      expect(isJsonMediaType(type), type).toBe(true);
    for (const type of [
      undefined,
      '',
      'text/plain',
      'text/plain; charset=utf-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'text/json',
      'application/jsonx',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/json; charset',
      'application/json; charset=utf-8; charset=latin1',
      'application/+json',
    ])
      expect(isJsonMediaType(type), String(type)).toBe(false);
    expect(isJsonMediaType(['application/json', 'application/json'])).toBe(false);
  });

  it('readJsonBody: 415 unsupported_media_type for a body not declared as JSON, declared or found while reading', async () => {
    for (const headers of [
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'application/json; charset=latin1' },
      {},
    ]) {
      const err = await readJsonBody(post('{"a":1}', headers), 64).catch((e: unknown) => e);
      expect(code(err), JSON.stringify(headers)).toBe('unsupported_media_type');
      expect(bodyErrorResponse(err)).toMatchObject({
        status: 415,
        body: { error: 'unsupported_media_type' },
      });
    }
    // Declared by its length: refused before a byte is read (the stream stays unread).
    const declared = post('{"a":1}', { 'content-type': 'text/plain', 'content-length': '7' });
    await expect(readJsonBody(declared, 64).catch(code)).resolves.toBe('unsupported_media_type');
    expect(declared.bodyUsed).toBe(false);
    // An empty body needs no type.
    expect(await readJsonBody(post('', {}), 64)).toBeUndefined();
  });

  it('declaresBody: a transfer-encoding or a content-length other than 0', () => {
    expect(declaresBody({})).toBe(false);
    expect(declaresBody({ 'content-length': '0' })).toBe(false);
    expect(declaresBody({ 'content-length': '12' })).toBe(true);
    expect(declaresBody({ 'transfer-encoding': 'chunked' })).toBe(true);
    expect(declaresBody(new Headers({ 'content-length': '3' }))).toBe(true);
  });
});

describe('admitRoute', () => {
  const route = (extra: Partial<Route> = {}): Route => ({
    method: 'POST',
    path: '/x',
    handler: async (request) => ({ status: 200, body: { auth: request.auth ?? null } }),
    ...extra,
  });
  const jsonBody: AuthInput['headers'] = { 'content-type': 'application/json', 'content-length': '2' };

  it('authorize, then authenticate (its result is the auth), then the media type; never rejects', async () => {
    const order: string[] = [];
    const r = route({
      authorize: () => void order.push('authorize'),
      authenticate: async () => {
        order.push('authenticate');
        return { who: 'me' };
      },
    });
    expect(await admitRoute(r, jsonBody)).toEqual({ ok: true, auth: { who: 'me' } });
    expect(order).toEqual(['authorize', 'authenticate']);
    const refused = route({
      authenticate: async () => {
        throw new MissingTokenError();
      },
      headers: { 'cache-control': 'no-store' },
    });
    const out = await admitRoute(refused, { 'content-type': 'text/plain', 'content-length': '9' });
    expect(out.ok).toBe(false);
    if (out.ok) return;
    // 401 before 415: an unauthenticated caller learns nothing about the body rule.
    expect(out.response.status).toBe(401);
    expect(out.response.headers).toMatchObject({ 'WWW-Authenticate': 'Bearer', 'cache-control': 'no-store' });
  });

  it('415 for a body not declared JSON on a route that takes one; a body-less request or a GET needs no type', async () => {
    const out = await admitRoute(route(), { 'content-type': 'text/plain', 'content-length': '9' });
    expect(out.ok ? 0 : out.response.status).toBe(415);
    expect((await admitRoute(route(), {})).ok).toBe(true);
    expect((await admitRoute(route(), { 'content-length': '0' })).ok).toBe(true);
    expect((await admitRoute(route({ method: 'GET' }), { 'content-length': '9' })).ok).toBe(true);
  });
});

describe('answerRoute', () => {
  it('413 payload_too_large for a body holding more values than maxBodyNodes, before the handler', async () => {
    let calls = 0;
    const r: Route = {
      method: 'POST',
      path: '/x',
      maxBodyNodes: 10,
      handler: async () => {
        calls += 1;
        return { status: 204 };
      },
    };
    const base = { headers: {}, query: {}, params: {} };
    const over = await answerRoute(r, { ...base, body: Array.from({ length: 10 }, () => []) });
    expect(over.status).toBe(413);
    expect(JSON.parse(over.body ?? '')).toMatchObject({ error: 'payload_too_large' });
    expect(calls).toBe(0);
    expect((await answerRoute(r, { ...base, body: [1, 2, 3, 4, 5, 6, 7, 8, 9] })).status).toBe(204);
    expect(calls).toBe(1);
  });
});

describe('a route’s own error shape (errorResponse)', () => {
  const shaped = (response: { status: number; headers: Record<string, string> }) => ({
    status: response.status,
    headers: { ...response.headers, 'content-type': 'application/x+json' },
    body: { status: String(response.status) },
  });
  const r: Route = {
    method: 'POST',
    path: '/x',
    authenticate: async () => {
      throw new MissingTokenError();
    },
    errorResponse: shaped,
    handler: async () => {
      throw new MissingTokenError();
    },
  };

  it('shapes refusals, body errors and handler throws alike; keeps WWW-Authenticate', async () => {
    const refused = await admitRoute(r, {});
    expect(refused.ok ? null : refused.response).toMatchObject({
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer', 'content-type': 'application/x+json' },
      body: '{"status":"401"}',
    });
    const bad = await readJsonBody(post('{'), 64).catch((e: unknown) => e);
    expect(bodyErrorResponse(bad, r)).toMatchObject({ status: 400, body: { status: '400' } });
    const thrown = await answerRoute(r, { headers: {}, query: {}, params: {}, body: undefined });
    expect(JSON.parse(thrown.body ?? '')).toEqual({ status: '401' });
  });

  it('a shape that throws falls back to the SDK’s error shape', async () => {
    const broken: Route = {
      ...r,
      errorResponse: () => {
        throw new Error('bug');
      },
    };
    const out = await admitRoute(broken, {});
    expect(out.ok ? null : JSON.parse(out.response.body ?? '')).toMatchObject({ error: 'missing_token' });
  });
});

describe('routedPath', () => {
  it('drops the query and fragment and decodes as the routers do', () => {
    expect(routedPath('/a/b?c=d')).toBe('/a/b');
    expect(routedPath('/%61pi/x?y')).toBe('/api/x');
    expect(routedPath('/a%2Fb')).toBe('/a%2Fb');
    expect(routedPath('/a%25b')).toBe('/a%25b');
    expect(routedPath('/%E0%A4%A')).toBe('/%E0%A4%A');
    expect(routedPath('')).toBe('/');
    expect(routedPath('/x#y')).toBe('/x');
  });
});
