import type {
  ScimCompareOp,
  ScimElementFilterAttribute,
  ScimFilter,
  ScimGroupFilterAttribute,
  ScimMultiValued,
  ScimUserFilterAttribute,
} from '@jit-provision/core';
import { ScimError } from './errors';

// A recursive-descent parser of RFC 7644 §3.4.2.2 filters into core's `ScimFilter` tree, checked against the
// attributes a store keeps queryable. Precedence: `or` < `and` < `not`/grouping/comparison. Bounded in
// length, nesting and terms before a store sees anything.

/** Longest filter accepted, characters. Entra and Okta send tens. */
export const MAX_FILTER_LENGTH = 2_048;
/** Deepest nesting of parentheses, `not` and value paths. */
export const MAX_FILTER_DEPTH = 16;
/** Most comparisons in one filter. */
export const MAX_FILTER_TERMS = 64;

export const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_URN = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** Which resource a filter is over: its attributes, multi-valued attributes and schema URN. */
export interface FilterTarget<A extends string> {
  urn: string;
  /** lower-case name → the canonical attribute. */
  attributes: { get(name: string): A | undefined };
  multiValued: ReadonlyMap<string, ScimMultiValued>;
}

const table = <A extends string>(names: readonly A[]) =>
  new Map(names.map((name) => [name.toLowerCase(), name] as const));

export const USER_FILTER: FilterTarget<ScimUserFilterAttribute> = {
  urn: USER_URN,
  attributes: table<ScimUserFilterAttribute>([
    'id',
    'userName',
    'externalId',
    'displayName',
    'active',
    'name.givenName',
    'name.familyName',
    'name.formatted',
    'meta.created',
    'meta.lastModified',
  ]),
  multiValued: new Map([['emails', 'emails']]),
};

export const GROUP_FILTER: FilterTarget<ScimGroupFilterAttribute> = {
  urn: GROUP_URN,
  attributes: table<ScimGroupFilterAttribute>([
    'id',
    'displayName',
    'externalId',
    'meta.created',
    'meta.lastModified',
  ]),
  multiValued: new Map([['members', 'members']]),
};

const ELEMENT = table<ScimElementFilterAttribute>(['value', 'type', 'primary', 'display']);
const COMPARE_OPS = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const ORDERED_OPS = new Set<string>(['gt', 'ge', 'lt', 'le']);

type Token =
  | { kind: 'word'; text: string }
  | { kind: 'string'; text: string }
  | { kind: '(' | ')' | '[' | ']' };

const invalid = (detail: string) => new ScimError(400, detail, 'invalidFilter');

/** A JSON string literal starting at `start`; returns its value and where it ends. */
function readString(text: string, start: number): { value: string; end: number } {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  if (i >= text.length) throw invalid('Unterminated string in filter');
  try {
    return { value: JSON.parse(text.slice(start, i + 1)) as string, end: i + 1 };
  } catch {
    throw invalid('Invalid string in filter');
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i += 1;
    else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ kind: c });
      i += 1;
    } else if (c === '"') {
      const { value, end } = readString(text, i);
      tokens.push({ kind: 'string', text: value });
      i = end;
    } else {
      const match = /^[A-Za-z0-9:._$+-]+/.exec(text.slice(i, i + 512));
      if (match === null) throw invalid(`Unexpected character ${JSON.stringify(c)} in filter`);
      tokens.push({ kind: 'word', text: match[0] });
      i += match[0].length;
    }
  }
  return tokens;
}

/** The attribute path without the resource's own schema URN (`urn:…:User:userName` → `userName`). */
export function stripUrn(path: string, urn: string): string {
  const prefix = `${urn.toLowerCase()}:`;
  return path.toLowerCase().startsWith(prefix) ? path.slice(prefix.length) : path;
}

type Literal = string | number | boolean | null;

class Parser<A extends string> {
  private at = 0;
  private terms = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly target: FilterTarget<A>,
  ) {}

  parse(): ScimFilter<A> {
    const filter = this.or(0);
    if (this.at < this.tokens.length) throw invalid('Unexpected text after the filter');
    return filter;
  }

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private keyword(word: string): boolean {
    const token = this.peek();
    if (token?.kind !== 'word' || token.text.toLowerCase() !== word) return false;
    this.at += 1;
    return true;
  }

  private expect(kind: '(' | ')' | '[' | ']'): void {
    if (this.peek()?.kind !== kind) throw invalid(`Expected "${kind}" in filter`);
    this.at += 1;
  }

  private or(depth: number): ScimFilter<A> {
    let left = this.and(depth);
    while (this.keyword('or')) left = { op: 'or', left, right: this.and(depth) };
    return left;
  }

  private and(depth: number): ScimFilter<A> {
    let left = this.unary(depth);
    while (this.keyword('and')) left = { op: 'and', left, right: this.unary(depth) };
    return left;
  }

  private unary(depth: number): ScimFilter<A> {
    if (depth >= MAX_FILTER_DEPTH) throw invalid(`Filter nests deeper than ${MAX_FILTER_DEPTH}`);
    if (this.keyword('not')) {
      this.expect('(');
      const filter = this.or(depth + 1);
      this.expect(')');
      return { op: 'not', filter };
    }
    if (this.peek()?.kind === '(') {
      this.at += 1;
      const filter = this.or(depth + 1);
      this.expect(')');
      return filter;
    }
    return this.comparison(depth);
  }

  private comparison(depth: number): ScimFilter<A> {
    const token = this.peek();
    if (token?.kind !== 'word') throw invalid('Expected an attribute in filter');
    this.at += 1;
    const path = stripUrn(token.text, this.target.urn);
    const dot = path.indexOf('.');
    const head = (dot === -1 ? path : path.slice(0, dot)).toLowerCase();
    const multi = this.target.multiValued.get(head);
    if (multi !== undefined && this.peek()?.kind === '[') {
      if (dot !== -1) throw invalid(`Unsupported attribute in filter: ${token.text}`);
      this.at += 1;
      const filter = new Parser(this.tokens, ELEMENT_TARGET).nested(this, depth + 1);
      this.expect(']');
      return { op: 'some', attribute: multi, filter } as ScimFilter<A>;
    }
    if (multi !== undefined) {
      // `emails.value eq "x"`, and `emails eq "x"` as its `value`.
      const sub = dot === -1 ? 'value' : path.slice(dot + 1);
      const element = ELEMENT.get(sub.toLowerCase());
      if (element === undefined) throw invalid(`Unsupported attribute in filter: ${token.text}`);
      const filter = this.compare(element);
      return { op: 'some', attribute: multi, filter } as ScimFilter<A>;
    }
    const attribute = this.target.attributes.get(path.toLowerCase());
    if (attribute === undefined) throw invalid(`Unsupported attribute in filter: ${token.text}`);
    return this.compare(attribute);
  }

  /** Parse a value path's inner filter with this parser's position and term count, then hand both back. */
  nested<B extends string>(outer: Parser<B>, depth: number): ScimFilter<A> {
    this.at = outer.at;
    this.terms = outer.terms;
    const filter = this.or(depth);
    outer.at = this.at;
    outer.terms = this.terms;
    return filter;
  }

  private compare<T extends string>(attribute: T): ScimFilter<T> {
    this.terms += 1;
    if (this.terms > MAX_FILTER_TERMS) throw invalid(`Filter has more than ${MAX_FILTER_TERMS} terms`);
    const token = this.peek();
    const op = token?.kind === 'word' ? token.text.toLowerCase() : '';
    this.at += 1;
    if (op === 'pr') return { op: 'pr', attribute };
    if (!COMPARE_OPS.has(op)) throw invalid('Expected an operator (eq ne co sw ew pr gt ge lt le)');
    const value = this.literal();
    if (ORDERED_OPS.has(op) && (typeof value === 'boolean' || value === null))
      throw invalid(`"${op}" cannot compare ${String(value)}`);
    return { op: op as ScimCompareOp, attribute, value };
  }

  private literal(): Literal {
    const token = this.peek();
    this.at += 1;
    if (token?.kind === 'string') return token.text;
    if (token?.kind !== 'word') throw invalid('Expected a value in filter');
    const word = token.text.toLowerCase();
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(token.text)) return Number(token.text);
    throw invalid(`Invalid value in filter: ${token.text}`);
  }
}

const ELEMENT_TARGET: FilterTarget<ScimElementFilterAttribute> = {
  urn: '',
  attributes: ELEMENT,
  multiValued: new Map(),
};

/**
 * Parse a SCIM filter (RFC 7644 §3.4.2.2) for `target` (users or groups). Attribute names are
 * case-insensitive and may carry the resource's schema URN; a value path (`emails[type eq "work"]`) and a
 * sub-attribute of a multi-valued attribute (`emails.value`, `members.value`) become `some`.
 *
 * @throws ScimError 400 `invalidFilter`: bad syntax, an attribute the store does not keep, or a filter over
 * {@link MAX_FILTER_LENGTH} characters, {@link MAX_FILTER_DEPTH} levels or {@link MAX_FILTER_TERMS} terms.
 *
 * @example
 * ```ts
 * parseFilter('userName eq "Ada@Example.com" and not (emails[type eq "work"] pr)', USER_FILTER);
 * ```
 */
export function parseFilter<A extends string>(text: string, target: FilterTarget<A>): ScimFilter<A> {
  if (text.length > MAX_FILTER_LENGTH) throw invalid(`Filter is longer than ${MAX_FILTER_LENGTH}`);
  const tokens = tokenize(text);
  if (tokens.length === 0) throw invalid('Empty filter');
  return new Parser(tokens, target).parse();
}

const ANY_ELEMENT: FilterTarget<string> = {
  urn: '',
  attributes: { get: (name) => name },
  multiValued: new Map(),
};

/**
 * The filter of a PATCH value path (`emails[type eq "work"]`, `addresses[type eq "home"]`): it acts on the
 * resource in hand, so any sub-attribute may be named (lower-case in the tree).
 *
 * @throws ScimError 400 `invalidFilter` as {@link parseFilter}.
 */
export function parseElementFilter(text: string): ScimFilter<string> {
  if (text.length > MAX_FILTER_LENGTH) throw invalid(`Filter is longer than ${MAX_FILTER_LENGTH}`);
  const tokens = tokenize(text);
  if (tokens.length === 0) throw invalid('Empty filter');
  return new Parser(tokens, ANY_ELEMENT).parse();
}

/**
 * Whether one element of a multi-valued attribute (an email, a member) matches an element filter: PATCH
 * value paths act on the resource in hand. Strings compare case-insensitively but a member's `value` (an id).
 */
export function matchesElement(
  filter: ScimFilter<string>,
  element: unknown,
  caseExactValue = false,
): boolean {
  switch (filter.op) {
    case 'and':
      return (
        matchesElement(filter.left, element, caseExactValue) &&
        matchesElement(filter.right, element, caseExactValue)
      );
    case 'or':
      return (
        matchesElement(filter.left, element, caseExactValue) ||
        matchesElement(filter.right, element, caseExactValue)
      );
    case 'not':
      return !matchesElement(filter.filter, element, caseExactValue);
    case 'some':
      return false;
    default: {
      const record =
        typeof element === 'object' && element !== null ? (element as Record<string, unknown>) : {};
      const key = Object.keys(record).find((name) => name.toLowerCase() === filter.attribute.toLowerCase());
      const actual = key === undefined ? undefined : record[key];
      if (filter.op === 'pr') return actual !== undefined && actual !== null && actual !== '';
      return compareValue(
        filter.op,
        actual,
        filter.value,
        caseExactValue && filter.attribute.toLowerCase() === 'value',
      );
    }
  }
}

function compareValue(op: ScimCompareOp, actual: unknown, expected: Literal, caseExact: boolean): boolean {
  const fold = (v: unknown) => (typeof v === 'string' && !caseExact ? v.toLowerCase() : v);
  const a = fold(
    typeof actual === 'string' && typeof expected === 'boolean' ? actual.toLowerCase() === 'true' : actual,
  );
  const b = fold(expected);
  if (op === 'eq') return a === b || (b === null && a === undefined);
  if (op === 'ne') return !(a === b || (b === null && a === undefined));
  if (typeof a === 'string' && typeof b === 'string') {
    if (op === 'co') return a.includes(b);
    if (op === 'sw') return a.startsWith(b);
    if (op === 'ew') return a.endsWith(b);
  }
  if ((typeof a === 'string' && typeof b === 'string') || (typeof a === 'number' && typeof b === 'number')) {
    if (op === 'gt') return a > b;
    if (op === 'ge') return a >= b;
    if (op === 'lt') return a < b;
    if (op === 'le') return a <= b;
  }
  return false;
}
