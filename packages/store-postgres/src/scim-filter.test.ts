import type { ScimCompareOp, ScimFilter } from '@jit-provision/core';
import { describe, expect, it } from 'vitest';
import { compileScimFilter, SqlParams } from './scim-filter';
import { groupFilterTarget, userFilterTarget } from './scim-rows';

const HOSTILE = [`o'brien`, `"; DROP TABLE users; --`, '100%', 'a_b', 'back\\slash', `$1`, `') OR TRUE --`];
const OPS: ScimCompareOp[] = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'];

const compile = (filter: ScimFilter<string>, target = userFilterTarget()) => {
  const params = new SqlParams(['issuer']);
  return { sql: compileScimFilter(filter, target, params), values: params.values };
};

describe('compileScimFilter', () => {
  it('puts every value in a parameter, never in the SQL text, for every operator', () => {
    for (const value of HOSTILE)
      for (const op of OPS)
        for (const attribute of ['userName', 'externalId', 'displayName', 'id']) {
          const { sql, values } = compile({ op, attribute, value });
          expect(sql).not.toContain(value);
          // As written (eq, gt, …) or LIKE-escaped inside a pattern (co, sw, ew).
          const escaped = value.replace(/[\\%_]/g, '\\$&');
          const carried = values.slice(1).map(String);
          expect(carried.some((v) => v.includes(value) || v.includes(escaped))).toBe(true);
        }
  });

  it('escapes LIKE metacharacters in co/sw/ew patterns, and only there', () => {
    expect(compile({ op: 'co', attribute: 'userName', value: '1%_\\' }).values[1]).toBe('%1\\%\\_\\\\%');
    expect(compile({ op: 'sw', attribute: 'userName', value: '_' }).values[1]).toBe('\\_%');
    expect(compile({ op: 'ew', attribute: 'userName', value: '%' }).values[1]).toBe('%\\%');
    expect(compile({ op: 'eq', attribute: 'userName', value: '%' }).values[1]).toBe('%');
  });

  it('compares caseExact:false attributes lower-cased, and id, externalId, members.value as written', () => {
    expect(compile({ op: 'eq', attribute: 'userName', value: 'A' }).sql).toContain(
      'lower(su.user_name) = lower($2::text)',
    );
    expect(compile({ op: 'eq', attribute: 'externalId', value: 'A' }).sql).toContain(
      'u.external_id = $2::text',
    );
    expect(compile({ op: 'eq', attribute: 'id', value: 'A' }).sql).toContain('su.user_id = $2::text');
    const members = compile(
      { op: 'some', attribute: 'members', filter: { op: 'eq', attribute: 'value', value: 'A' } },
      groupFilterTarget('"s"'),
    );
    expect(members.sql).toContain('m.user_id = $2::text');
  });

  it('a group id that is no uuid matches nothing without a cast; a uuid is compared as one', () => {
    const target = groupFilterTarget('"s"');
    expect(compile({ op: 'eq', attribute: 'id', value: "x' OR 1=1" }, target)).toEqual({
      sql: 'FALSE',
      values: ['issuer'],
    });
    const id = '0b6f2a9e-1c3d-4e5f-8a7b-9c0d1e2f3a4b';
    expect(compile({ op: 'eq', attribute: 'id', value: id }, target).sql).toContain('g.id = $2::uuid');
  });

  it('a comparison stays bare (its index serves it) unless a not is above it, where NULL must be false first', () => {
    const target = groupFilterTarget('"s"');
    const eq = { op: 'eq', attribute: 'displayName', value: 'Admins' } as const;
    expect(compile(eq, target).sql).not.toContain('COALESCE');
    expect(compile({ op: 'and', left: eq, right: eq }, target).sql).not.toContain('COALESCE');
    expect(compile({ op: 'not', filter: { op: 'or', left: eq, right: eq } }, target).sql).toMatch(
      /^\(NOT \(COALESCE\(.*\) OR COALESCE\(.*\)\)\)$/,
    );
  });

  it('refuses an attribute it does not know (invalid_field), never naming it in SQL', () => {
    expect(() => compile({ op: 'eq', attribute: 'u.subject) OR (TRUE', value: 'x' })).toThrow(
      expect.objectContaining({ code: 'invalid_field' }),
    );
  });
});
