import { describe, expect, it } from 'vitest';
import { InvalidTokenError, MissingTokenError } from '../errors';
import { readBearerToken } from './bearer';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln-_';

describe('readBearerToken', () => {
  it.each([
    ['record, lower case', { authorization: `Bearer ${JWT}` }],
    ['record, any case', { AuThOrIzAtIoN: `Bearer ${JWT}` }],
    ['scheme case-insensitive', { authorization: `bearer ${JWT}` }],
    ['several spaces', { authorization: `Bearer   ${JWT}` }],
    ['web Headers', new Headers({ Authorization: `Bearer ${JWT}` })],
  ])('reads %s', (_name, headers) => {
    expect(readBearerToken(headers)).toBe(JWT);
  });

  it.each([
    ['no header', {}],
    ['undefined value', { authorization: undefined }],
    ['web Headers without it', new Headers({ accept: 'x' })],
  ])('missing: %s → missing_token with a bare Bearer challenge', (_name, headers) => {
    const err = catchError(() => readBearerToken(headers));
    expect(err).toBeInstanceOf(MissingTokenError);
    expect(err).toMatchObject({
      code: 'missing_token',
      status: 401,
      headers: { 'WWW-Authenticate': 'Bearer' },
    });
  });

  it.each([
    ['two headers (array)', { authorization: [`Bearer ${JWT}`, `Bearer ${JWT}`] }],
    ['two differently cased keys', { authorization: `Bearer ${JWT}`, Authorization: `Bearer ${JWT}` }],
    [
      'two web headers',
      (() => {
        const h = new Headers();
        h.append('authorization', `Bearer ${JWT}`);
        h.append('authorization', `Bearer ${JWT}`);
        return h;
      })(),
    ],
    ['scheme only', { authorization: 'Bearer' }],
    ['scheme and space', { authorization: 'Bearer ' }],
    ['two tokens', { authorization: 'Bearer a b' }],
    ['non-ASCII', { authorization: 'Bearer tökén' }],
    ['Basic', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['DPoP', { authorization: `DPoP ${JWT}` }],
    ['no scheme', { authorization: JWT }],
    ['padding inside the token', { authorization: 'Bearer ab=c' }],
    ['a character outside RFC 6750 b64token', { authorization: 'Bearer ab*c' }],
    ['empty', { authorization: '' }],
    ['comma list', { authorization: `Bearer ${JWT}, Bearer ${JWT}` }],
  ])('malformed: %s', (_name, headers) => {
    const err = catchError(() => readBearerToken(headers as never));
    expect(err).toBeInstanceOf(InvalidTokenError);
    expect(err).toMatchObject({ code: 'invalid_token', reason: 'malformed', status: 401 });
  });

  it('refuses an oversized token as too_large, cheaply, without echoing it', () => {
    const token = 'a'.repeat(16_385);
    const err = catchError(() => readBearerToken({ authorization: `Bearer ${token}` }));
    expect(err).toMatchObject({ code: 'invalid_token', reason: 'too_large' });
    expect((err as Error).message).not.toContain('aaaa');
    expect(readBearerToken({ authorization: `Bearer ${'a'.repeat(16_384)}` })).toHaveLength(16_384);
    expect(
      catchError(() => readBearerToken({ authorization: `Bearer ${'a'.repeat(10_000_000)}` })),
    ).toMatchObject({
      reason: 'too_large',
    });
    expect(
      catchError(() => readBearerToken({ authorization: `Bearer ${'a'.repeat(101)}` }, 100)),
    ).toMatchObject({
      reason: 'too_large',
    });
  });

  it('never puts the token into an error message', () => {
    for (const authorization of [
      'Bearer secret-token-1 x',
      'Basic secret-token-1',
      'Bearer secret-töken-1',
    ]) {
      const err = catchError(() => readBearerToken({ authorization }));
      expect((err as Error).message).not.toContain('secret');
    }
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}
