import { describe, expect, it } from 'vitest';
import { isJitProvisionError } from '../errors';
import { bodyErrorResponse, readJsonBody } from './routes';

const encoder = new TextEncoder();
/** A POST whose body arrives in `chunks`, with no content-length (as a chunked upload). */
const streamed = (...chunks: string[]) =>
  new Request('http://x/', {
    method: 'POST',
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
        controller.close();
      },
    }),
    duplex: 'half',
  } as RequestInit);
const post = (body: string, headers: Record<string, string> = {}) =>
  new Request('http://x/', { method: 'POST', body, headers });
const code = (err: unknown) => (isJitProvisionError(err) ? err.code : err);

describe('readJsonBody', () => {
  it('parses JSON whatever the content type, across chunks and after a BOM', async () => {
    expect(await readJsonBody(post('{"a":1}', { 'content-type': 'text/plain' }), 64)).toEqual({ a: 1 });
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
