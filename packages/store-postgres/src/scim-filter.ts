import { InvalidFieldError, type ScimCompareOp, type ScimFilter } from '@jit-provision/core';

/**
 * How a filterable attribute is compared (RFC 7643 §2.2): `text` case-insensitively (`caseExact: false`),
 * `exact` as written, `boolean`, `date` as an instant, `uuid` for a uuid column (a value that is no uuid
 * matches nothing instead of failing the cast).
 */
export type ColumnKind = 'text' | 'exact' | 'boolean' | 'date' | 'uuid';

/** An SQL expression (built by us, never from a value) and how to compare it. */
export interface Column {
  sql: string;
  kind: ColumnKind;
}

/** The statement's parameters: every value of a filter becomes one, never part of the SQL text. */
export class SqlParams {
  readonly values: unknown[];
  constructor(initial: unknown[] = []) {
    this.values = [...initial];
  }
  /** Add `value` and answer its placeholder, cast to `type`. */
  add(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}

/** What a filter may name on one resource: its columns, and its multi-valued attributes as EXISTS subqueries. */
export interface FilterTarget {
  columns: Readonly<Record<string, Column>>;
  /** `(attribute, element condition)` → an EXISTS over the elements; absent attribute → not filterable here. */
  multiValued: Readonly<
    Record<string, { columns: Readonly<Record<string, Column>>; exists: (where: string) => string }>
  >;
}

const TRUE = 'TRUE';
const FALSE = 'FALSE';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `\`, `%` and `_` taken literally in a LIKE pattern (LIKE's default escape is `\`). */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, '\\$&');

const LIKE_PATTERN: Partial<Record<ScimCompareOp, (text: string) => string>> = {
  co: (text) => `%${escapeLike(text)}%`,
  sw: (text) => `${escapeLike(text)}%`,
  ew: (text) => `%${escapeLike(text)}`,
};

const ORDER: Partial<Record<ScimCompareOp, string>> = { gt: '>', ge: '>=', lt: '<', le: '<=' };

/** `true`/`false`, also as SCIM clients send them in strings (`"True"`); anything else is no boolean. */
function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  return undefined;
}

/** A string, or a number written as one; a boolean compared to a string attribute is its text too. */
const asText = (value: unknown): string => String(value);

/** Compare `left` (an expression) with the value placeholder `right` of the same type. */
function compare(op: ScimCompareOp, left: string, right: string): string {
  if (op === 'eq') return `${left} = ${right}`;
  if (op === 'ne') return `${left} IS DISTINCT FROM ${right}`;
  const order = ORDER[op];
  return order === undefined ? FALSE : `${left} ${order} ${right}`;
}

function compareText(op: ScimCompareOp, column: Column, value: unknown, params: SqlParams): string {
  const text = asText(value);
  const fold = column.kind === 'text';
  const left = fold ? `lower(${column.sql})` : column.sql;
  const pattern = LIKE_PATTERN[op];
  if (pattern !== undefined) {
    const placeholder = params.add(pattern(text), 'text');
    return `${left} LIKE ${fold ? `lower(${placeholder})` : placeholder}`;
  }
  const placeholder = params.add(text, 'text');
  return compare(op, left, fold ? `lower(${placeholder})` : placeholder);
}

function compareUuid(op: ScimCompareOp, column: Column, value: unknown, params: SqlParams): string {
  const text = asText(value);
  if (op === 'eq' || op === 'ne') {
    // A value that is no uuid equals no row's id: answer without the cast that would fail on it.
    if (!UUID.test(text)) return op === 'eq' ? FALSE : TRUE;
    return compare(op, column.sql, params.add(text, 'uuid'));
  }
  return compareText(op, { sql: `${column.sql}::text`, kind: 'exact' }, text.toLowerCase(), params);
}

function compareValue(op: ScimCompareOp, column: Column, value: unknown, params: SqlParams): string {
  switch (column.kind) {
    case 'boolean': {
      const bool = asBoolean(value);
      return bool === undefined || LIKE_PATTERN[op] !== undefined
        ? FALSE
        : compare(op, column.sql, params.add(bool, 'boolean'));
    }
    case 'date': {
      const instant = typeof value === 'string' ? new Date(value) : undefined;
      if (instant === undefined || Number.isNaN(instant.getTime()) || LIKE_PATTERN[op] !== undefined)
        return FALSE;
      // meta times are answered to the millisecond: a client comparing with one it read must meet it.
      return compare(
        op,
        `date_trunc('milliseconds', ${column.sql})`,
        params.add(instant.toISOString(), 'timestamptz'),
      );
    }
    case 'uuid':
      return compareUuid(op, column, value, params);
    default:
      return compareText(op, column, value, params);
  }
}

/** `pr`: present and, for strings, not empty (RFC 7644 §3.4.2.2). */
const present = (column: Column) =>
  column.kind === 'text' || column.kind === 'exact'
    ? `(${column.sql} IS NOT NULL AND ${column.sql} <> '')`
    : `${column.sql} IS NOT NULL`;

function column(columns: Readonly<Record<string, Column>>, attribute: string): Column {
  const found = Object.hasOwn(columns, attribute) ? columns[attribute] : undefined;
  if (found === undefined) throw new InvalidFieldError('filter', `${attribute} is not filterable here`);
  return found;
}

function leaf(
  filter: Extract<ScimFilter<string>, { attribute: string }> & { op: ScimCompareOp | 'pr' },
  columns: Readonly<Record<string, Column>>,
  params: SqlParams,
): string {
  const col = column(columns, filter.attribute);
  if (filter.op === 'pr') return present(col);
  const { value } = filter as { value: unknown };
  if (value === null) {
    if (filter.op === 'eq') return `${col.sql} IS NULL`;
    return filter.op === 'ne' ? `${col.sql} IS NOT NULL` : FALSE;
  }
  return compareValue(filter.op, col, value, params);
}

/**
 * Compile a parsed SCIM filter into an SQL condition over `target`'s columns. Every value goes into `params`
 * (the text holds only placeholders and our own expressions). Under a `not` every comparison is total
 * (COALESCE to false), so `not` of a comparison with an absent attribute is true, as in a store that filters
 * in memory; elsewhere a comparison stays bare, so the indexes on its expression serve it.
 *
 * @example
 * ```ts
 * const params = new SqlParams(['https://issuer.example']);
 * const where = compileScimFilter({ op: 'eq', attribute: 'userName', value: "o'brien" }, target, params);
 * // where: lower(su.user_name) = lower($2::text); params.values[1]: "o'brien"
 * ```
 */
export function compileScimFilter(
  filter: ScimFilter<string>,
  target: FilterTarget | { columns: Readonly<Record<string, Column>>; multiValued?: undefined },
  params: SqlParams,
  negated = false,
): string {
  switch (filter.op) {
    case 'and':
    case 'or':
      return `(${compileScimFilter(filter.left, target, params, negated)} ${filter.op.toUpperCase()} ${compileScimFilter(filter.right, target, params, negated)})`;
    case 'not':
      return `(NOT ${compileScimFilter(filter.filter, target, params, true)})`;
    case 'some': {
      const multi = target.multiValued?.[filter.attribute];
      if (multi === undefined)
        throw new InvalidFieldError('filter', `${filter.attribute} is not filterable here`);
      // EXISTS is never NULL, so the elements' own condition is a plain WHERE again.
      return `EXISTS (${multi.exists(compileScimFilter(filter.filter, { columns: multi.columns }, params))})`;
    }
    default: {
      // Under a NOT, an unknown (NULL) comparison must be false before it is negated. Elsewhere AND and OR
      // treat NULL as false already, and the bare comparison keeps the expression index usable
      // (`lower(user_name) = lower($2)` is the index's own expression; a COALESCE around it is not).
      const comparison = leaf(filter, target.columns, params);
      return negated ? `COALESCE(${comparison}, FALSE)` : comparison;
    }
  }
}
