import type {
  ScimCompareOp,
  ScimElementFilterAttribute,
  ScimFilter,
  ScimMultiValued,
} from '@jit-provision/core';

/**
 * An attribute's value as a filter sees it; `undefined` when absent. Strings carry their `caseExact`
 * (RFC 7643 §2.2): the others compare case-insensitively.
 */
export type FilterValue =
  | { kind: 'string'; value: string; caseExact: boolean }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'number'; value: number }
  | { kind: 'date'; value: Date }
  | undefined;

/** How a filter reads one resource: its attributes, and the elements of its multi-valued ones. */
export interface FilterSubject<A extends string> {
  get(attribute: A): FilterValue;
  elements(attribute: ScimMultiValued): Array<(attribute: ScimElementFilterAttribute) => FilterValue>;
}

type Literal = string | number | boolean | null;

const ordered = (op: ScimCompareOp, diff: number): boolean => {
  if (op === 'gt') return diff > 0;
  if (op === 'ge') return diff >= 0;
  if (op === 'lt') return diff < 0;
  if (op === 'le') return diff <= 0;
  return op === 'eq' && diff === 0;
};

function compareString(op: ScimCompareOp, value: string, literal: string, caseExact: boolean): boolean {
  const a = caseExact ? value : value.toLowerCase();
  const b = caseExact ? literal : literal.toLowerCase();
  if (op === 'co') return a.includes(b);
  if (op === 'sw') return a.startsWith(b);
  if (op === 'ew') return a.endsWith(b);
  return ordered(op, a < b ? -1 : a > b ? 1 : 0);
}

/** `op` other than `ne` (which is `not eq`); a type mismatch or an absent attribute never matches. */
function compare(op: ScimCompareOp, actual: FilterValue, literal: Literal): boolean {
  if (literal === null) return op === 'eq' && actual === undefined;
  if (actual === undefined) return false;
  switch (actual.kind) {
    case 'string':
      return typeof literal === 'string' && compareString(op, actual.value, literal, actual.caseExact);
    case 'boolean':
      return op === 'eq' && literal === actual.value;
    case 'number':
      return typeof literal === 'number' && ordered(op, actual.value - literal);
    case 'date': {
      // Dates arrive as ISO strings and compare as instants, whatever their offset or precision.
      const at = typeof literal === 'string' ? Date.parse(literal) : Number.NaN;
      return !Number.isNaN(at) && ordered(op, actual.value.getTime() - at);
    }
  }
}

/** `pr`: present and not empty (RFC 7644 §3.4.2.2). */
const present = (actual: FilterValue) =>
  actual !== undefined && !(actual.kind === 'string' && actual.value === '');

/**
 * Whether `subject` matches `filter`. Two-valued: a comparison on an absent attribute is false, `ne` is
 * exactly `not eq` (so an absent attribute is `ne` anything), and `not` inverts.
 */
export function matches<A extends string>(filter: ScimFilter<A>, subject: FilterSubject<A>): boolean {
  switch (filter.op) {
    case 'and':
      return matches(filter.left, subject) && matches(filter.right, subject);
    case 'or':
      return matches(filter.left, subject) || matches(filter.right, subject);
    case 'not':
      return !matches(filter.filter, subject);
    case 'pr':
      return present(subject.get(filter.attribute));
    case 'some': {
      const inner = filter.filter;
      return subject.elements(filter.attribute).some((get) => matches(inner, { get, elements: () => [] }));
    }
    case 'ne':
      return !compare('eq', subject.get(filter.attribute), filter.value);
    default:
      return compare(filter.op, subject.get(filter.attribute), filter.value);
  }
}

/** A string attribute's value; `undefined` when it is not a string. */
export const text = (value: unknown, caseExact: boolean): FilterValue =>
  typeof value === 'string' ? { kind: 'string', value, caseExact } : undefined;

/** A complex element's sub-attribute (`emails[…].type`), as SCIM keeps them: strings case-insensitive. */
export function element(item: unknown): (attribute: ScimElementFilterAttribute) => FilterValue {
  const record = typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {};
  return (attribute) => {
    const value = record[attribute];
    if (attribute === 'primary') return typeof value === 'boolean' ? { kind: 'boolean', value } : undefined;
    return text(value, false);
  };
}
