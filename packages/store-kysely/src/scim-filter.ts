import { InvalidFieldError, type ScimCompareOp, type ScimFilter } from '@jit-provision/core';
import { type RawBuilder, sql } from 'kysely';
import type { Sql } from './dialect';

/**
 * How a filterable attribute compares (RFC 7643 §2.2): `text` case-insensitively (`caseExact: false`), `exact`
 * as written, `boolean` (an expression answering 1 or 0, the same on every engine), `date` as an instant.
 */
export type ColumnKind = 'text' | 'exact' | 'boolean' | 'date';

/** An SQL expression (ours, never a value) and how it compares. */
export interface Column {
  sql: string;
  kind: ColumnKind;
  /** An indexed condition every `eq` match also meets (MySQL's hashed keys), ANDed in so the index serves it. */
  eqKey?: (value: string) => RawBuilder<unknown>;
}

type Columns = Readonly<Record<string, Column>>;

/** What a filter may name on one resource: its columns, and its multi-valued attributes as EXISTS subqueries. */
export interface FilterTarget {
  columns: Columns;
  multiValued?: Readonly<
    Record<string, { columns: Columns; exists: (where: RawBuilder<unknown>) => RawBuilder<unknown> }>
  >;
}

type Sqlish = RawBuilder<unknown>;

const FALSE = sql.raw('FALSE');

/** `\`, `%` and `_` taken literally in a LIKE pattern (escaped with `\`). */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, '\\$&');

const LIKE: Partial<Record<ScimCompareOp, (text: string) => string>> = {
  co: (text) => `%${escapeLike(text)}%`,
  sw: (text) => `${escapeLike(text)}%`,
  ew: (text) => `%${escapeLike(text)}`,
};

const ORDER: Partial<Record<ScimCompareOp, string>> = { eq: '=', gt: '>', ge: '>=', lt: '<', le: '<=' };

/** `true`/`false`, also as SCIM clients send them in strings (`"True"`); anything else is no boolean. */
function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  return undefined;
}

function compareText(d: Sql, op: ScimCompareOp, column: Column, value: unknown): Sqlish {
  const fold = column.kind === 'text';
  const left = sql.raw(fold ? `LOWER(${column.sql})` : column.sql);
  const pattern = LIKE[op];
  if (pattern !== undefined) {
    const right = fold ? sql`LOWER(${pattern(String(value))})` : sql`${pattern(String(value))}`;
    // MySQL and Postgres escape LIKE with `\` by default; SQLite has no default escape character.
    return sql`${left} LIKE ${right}${sql.raw(d.name === 'sqlite' ? ` ESCAPE '\\'` : '')}`;
  }
  const right = fold ? sql`LOWER(${String(value)})` : sql`${String(value)}`;
  const compared = sql`${left} ${sql.raw(ORDER[op] as string)} ${right}`;
  return op === 'eq' && column.eqKey !== undefined
    ? sql`(${column.eqKey(String(value))} AND ${compared})`
    : compared;
}

/** One comparison other than `ne` (which is `not eq`); a mismatched type never matches. */
function compareValue(d: Sql, op: ScimCompareOp, column: Column, value: unknown): Sqlish {
  const col = sql.raw(column.sql);
  switch (column.kind) {
    case 'boolean': {
      const bool = asBoolean(value);
      return bool === undefined || op !== 'eq' ? FALSE : sql`${col} = ${bool ? 1 : 0}`;
    }
    case 'date': {
      const at = typeof value === 'string' ? new Date(value) : undefined;
      if (at === undefined || Number.isNaN(at.getTime()) || LIKE[op] !== undefined) return FALSE;
      return sql`${col} ${sql.raw(ORDER[op] as string)} ${d.time(at)}`;
    }
    default:
      return compareText(d, op, column, value);
  }
}

/** `pr`: present and, for strings, not empty (RFC 7644 §3.4.2.2). */
const present = (column: Column): Sqlish =>
  sql.raw(
    column.kind === 'text' || column.kind === 'exact'
      ? `(${column.sql} IS NOT NULL AND ${column.sql} <> '')`
      : `${column.sql} IS NOT NULL`,
  );

function columnOf(columns: Columns, attribute: string): Column {
  const found = Object.hasOwn(columns, attribute) ? columns[attribute] : undefined;
  if (found === undefined) throw new InvalidFieldError('filter', `${attribute} is not filterable here`);
  return found;
}

type Leaf = Extract<ScimFilter<string>, { attribute: string }> & { op: ScimCompareOp | 'pr' };

/** A comparison that is never NULL: an absent attribute compares false (and `not` of it is true). */
function leaf(d: Sql, filter: Leaf, columns: Columns): Sqlish {
  const col = columnOf(columns, filter.attribute);
  if (filter.op === 'pr') return sql`COALESCE(${present(col)}, FALSE)`;
  const { value } = filter as { value: unknown };
  if (filter.op === 'ne') return sql`(NOT ${leaf(d, { ...filter, op: 'eq' } as Leaf, columns)})`;
  if (value === null) return filter.op === 'eq' ? sql.raw(`(${col.sql} IS NULL)`) : FALSE;
  return sql`COALESCE(${compareValue(d, filter.op, col, value)}, FALSE)`;
}

/**
 * Compile a parsed SCIM filter into an SQL condition over `target`'s columns: every value a parameter (the
 * SQL text holds only our own expressions), every comparison two-valued, the same SQL on MySQL/MariaDB,
 * SQLite and Postgres (lower-cased compares and LIKE for `caseExact: false`, integer booleans).
 *
 * @example
 * ```ts
 * const where = compileScimFilter(d, { op: 'eq', attribute: 'userName', value: "o'brien" }, target);
 * // COALESCE(LOWER(su.user_name) = LOWER(?), FALSE), with "o'brien" as the parameter
 * ```
 */
export function compileScimFilter(d: Sql, filter: ScimFilter<string>, target: FilterTarget): Sqlish {
  switch (filter.op) {
    case 'and':
    case 'or':
      return sql`(${compileScimFilter(d, filter.left, target)} ${sql.raw(filter.op.toUpperCase())} ${compileScimFilter(d, filter.right, target)})`;
    case 'not':
      return sql`(NOT ${compileScimFilter(d, filter.filter, target)})`;
    case 'some': {
      const multi = target.multiValued?.[filter.attribute];
      if (multi === undefined)
        throw new InvalidFieldError('filter', `${filter.attribute} is not filterable here`);
      return sql`EXISTS (${multi.exists(compileScimFilter(d, filter.filter, { columns: multi.columns }))})`;
    }
    default:
      return leaf(d, filter, target.columns);
  }
}
