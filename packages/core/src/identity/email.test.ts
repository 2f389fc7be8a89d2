import { describe, expect, it } from 'vitest';
import { normaliseEmail, parseEmail } from './email';

describe('parseEmail: the one email parser (issue 11 #6)', () => {
  it.each([
    ['  Ada@Example.COM ', 'ada@example.com', 'example.com'],
    ['a@corp.com.', 'a@corp.com', 'corp.com'],
    ['first.last+tag@eu.corp.com', 'first.last+tag@eu.corp.com', 'eu.corp.com'],
    ['ada@BÜCHER.com', 'ada@xn--bcher-kva.com', 'xn--bcher-kva.com'],
    ['ada@xn--bcher-kva.com', 'ada@xn--bcher-kva.com', 'xn--bcher-kva.com'],
    // Non-ASCII local parts stay as given: only ASCII letters fold.
    ['Jürgen@corp.com', 'jürgen@corp.com', 'corp.com'],
  ])('%j → %s', (input, address, domain) => {
    expect(parseEmail(input)).toMatchObject({ address, domain });
    expect(normaliseEmail(input)).toBe(address);
  });

  it.each([
    'a@evil.com@corp.com',
    'attacker@evil.com,x@corp.com',
    'attacker@evil.com x@corp.com',
    'attacker@evil.com (x) .corp.com',
    'attacker@evil.com%x.corp.com',
    '=?utf-8?q?attacker=40evil.com?=@corp.com',
    '=?iso-8859-1?b?YXR0YWNrZXJAZXZpbC5jb20=?=@corp.com',
    'eve@\u212Acorp.com',
    '\u212Aim@corp.com',
    'eve@\uff4bcorp.com',
    '\u0130@corp.com',
    '"x@y"@corp.com',
    '<a@corp.com>',
    'a@[127.0.0.1]',
    'a\u00a0b@corp.com',
    'a\u2003@corp.com',
    'a@corp\u3002com',
    'a@corp..com',
    'a@.corp.com',
    '@corp.com',
    'a@',
    'no-at-sign',
    'a\u0000@corp.com',
    'a\uD800@corp.com',
    `${'a'.repeat(320)}@corp.com`,
    '',
  ])('refuses %j with invalid_request', (input) => {
    expect(() => parseEmail(input)).toThrow(
      expect.objectContaining({ code: 'invalid_request', status: 400 }),
    );
  });

  it('refuses what is not a string', () => {
    for (const value of [undefined, null, 42, {}]) {
      expect(() => parseEmail(value)).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    }
  });
});
