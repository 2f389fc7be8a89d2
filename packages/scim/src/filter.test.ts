import { describe, expect, it } from 'vitest';
import { ScimError } from './errors';
import { GROUP_FILTER, MAX_FILTER_DEPTH, matchesElement, parseFilter, USER_FILTER } from './filter';

const scimType = (run: () => unknown) => {
  try {
    run();
  } catch (err) {
    return err instanceof ScimError ? `${err.status} ${err.scimType}` : String(err);
  }
  return 'no error';
};

describe('parseFilter', () => {
  it('every comparison operator, values of each type, names case-insensitive and with the schema URN', () => {
    for (const op of ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'])
      expect(parseFilter(`userName ${op.toUpperCase()} "a"`, USER_FILTER)).toEqual({
        op,
        attribute: 'userName',
        value: 'a',
      });
    expect(parseFilter('USERNAME eq "Ada"', USER_FILTER)).toEqual({
      op: 'eq',
      attribute: 'userName',
      value: 'Ada',
    });
    expect(
      parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"', USER_FILTER),
    ).toMatchObject({
      attribute: 'userName',
    });
    expect(parseFilter('active eq True', USER_FILTER)).toEqual({
      op: 'eq',
      attribute: 'active',
      value: true,
    });
    expect(parseFilter('externalId eq null', USER_FILTER)).toMatchObject({ value: null });
    expect(parseFilter('displayName gt 5', USER_FILTER)).toMatchObject({ value: 5 });
    expect(parseFilter('name.givenName pr', USER_FILTER)).toEqual({ op: 'pr', attribute: 'name.givenName' });
    expect(parseFilter('userName eq "a \\"quoted\\" \\u00e9"', USER_FILTER)).toMatchObject({
      value: 'a "quoted" é',
    });
  });

  it('or below and below not; grouping', () => {
    expect(parseFilter('userName eq "a" or userName eq "b" and active eq true', USER_FILTER)).toEqual({
      op: 'or',
      left: { op: 'eq', attribute: 'userName', value: 'a' },
      right: {
        op: 'and',
        left: { op: 'eq', attribute: 'userName', value: 'b' },
        right: { op: 'eq', attribute: 'active', value: true },
      },
    });
    expect(
      parseFilter('(userName eq "a" or userName eq "b") and not (active eq false)', USER_FILTER),
    ).toMatchObject({
      op: 'and',
      left: { op: 'or' },
      right: { op: 'not', filter: { op: 'eq', attribute: 'active', value: false } },
    });
  });

  it('value paths and sub-attributes of multi-valued attributes become some', () => {
    expect(parseFilter('emails[type eq "work" and value co "@example.com"]', USER_FILTER)).toEqual({
      op: 'some',
      attribute: 'emails',
      filter: {
        op: 'and',
        left: { op: 'eq', attribute: 'type', value: 'work' },
        right: { op: 'co', attribute: 'value', value: '@example.com' },
      },
    });
    expect(parseFilter('emails.value eq "a@x"', USER_FILTER)).toEqual({
      op: 'some',
      attribute: 'emails',
      filter: { op: 'eq', attribute: 'value', value: 'a@x' },
    });
    expect(parseFilter('members[value eq "u1"]', GROUP_FILTER)).toMatchObject({
      op: 'some',
      attribute: 'members',
    });
    expect(parseFilter('Members.Value eq "u1"', GROUP_FILTER)).toMatchObject({
      op: 'some',
      attribute: 'members',
    });
    expect(parseFilter('displayName eq "Admins"', GROUP_FILTER)).toMatchObject({ attribute: 'displayName' });
  });

  it('400 invalidFilter: unknown attribute, bad syntax, ordering a boolean, over the bounds', () => {
    for (const text of [
      'nickName eq "x"',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1"',
      'members eq "x"',
      'userName eq',
      'userName xx "a"',
      'userName eq "a" and',
      '(userName eq "a"',
      'userName eq "unterminated',
      'userName eq unquoted',
      'active gt true',
      '',
      'emails[foo eq "x"]',
      `${'not ('.repeat(MAX_FILTER_DEPTH + 1)}userName pr${')'.repeat(MAX_FILTER_DEPTH + 1)}`,
      Array.from({ length: 65 }, () => 'userName pr').join(' or '),
      `userName eq "${'x'.repeat(3_000)}"`,
    ])
      expect([text.slice(0, 40), scimType(() => parseFilter(text, USER_FILTER))]).toEqual([
        text.slice(0, 40),
        '400 invalidFilter',
      ]);
  });
});

describe('matchesElement', () => {
  it('compares strings case-insensitively, member values exactly, booleans written as strings', () => {
    const work = { type: 'Work', value: 'A@X', primary: 'True' };

    const f = (text: string) => {
      const parsed = parseFilter(text, USER_FILTER);
      if (parsed.op !== 'some') throw new Error('expected some');
      return parsed.filter;
    };
    expect(matchesElement(f('emails[type eq "work"]'), work)).toBe(true);
    expect(matchesElement(f('emails[primary eq true and value sw "a@"]'), work)).toBe(true);
    expect(matchesElement(f('emails[not (type eq "work")]'), work)).toBe(false);
    expect(matchesElement(f('emails[value eq "a@x"]'), work, true)).toBe(false);
    expect(matchesElement(f('emails[display pr]'), work)).toBe(false);
  });
});
