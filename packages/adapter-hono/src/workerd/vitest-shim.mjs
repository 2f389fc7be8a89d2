// `vitest` inside workerd, for the kits bundled into kits-worker.mjs: the kits register their cases with
// describe/it here, and workerd.edge.ts (vitest on Node) runs each one by name through `dispatchFetch`.
// `expect` is vitest's own (chai with @vitest/expect's matchers, built as vitest builds it), so a kit's
// assertions mean what they mean on Node. `vi` fakes only what the kits use: Date.
import {
  ASYMMETRIC_MATCHERS_OBJECT,
  ChaiStyleAssertions,
  chai,
  GLOBAL_EXPECT,
  getState,
  JestAsymmetricMatchers,
  JestChaiExpect,
  JestExtend,
  setState,
} from '@vitest/expect';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(ChaiStyleAssertions);
chai.use(JestAsymmetricMatchers);

export const expect = (value, message) => {
  const { assertionCalls } = getState(expect);
  setState({ assertionCalls: assertionCalls + 1 }, expect);
  return chai.expect(value, message);
};
Object.assign(expect, chai.expect);
Object.assign(expect, globalThis[ASYMMETRIC_MATCHERS_OBJECT]);
setState({ assertionCalls: 0, isExpectingAssertions: false, expectedAssertionsNumber: null }, expect);
globalThis[GLOBAL_EXPECT] = expect;

/** The registered cases, by full name, and the hook scopes they sit in (outermost first). */
const cases = new Map();
let scope = { name: '', before: [], after: [], started: false, parent: undefined };
const scopes = [];

export function describe(name, body) {
  const parent = scope;
  scope = {
    name: parent.name ? `${parent.name} > ${name}` : name,
    before: [],
    after: [],
    started: false,
    parent,
  };
  scopes.push(scope);
  body();
  scope = parent;
}
describe.skipIf = (skip) => (skip ? () => {} : describe);

const format = (title, row, index) => {
  if (Array.isArray(row)) {
    let i = 0;
    return title.replace(/%[sdio#%]/g, (m) =>
      m === '%%' ? '%' : m === '%#' ? String(index) : String(row[i++]),
    );
  }
  return title.replace(/\$([a-zA-Z_]\w*)/g, (_m, key) => String(row[key]));
};

export function it(name, fn) {
  const full = scope.name ? `${scope.name} > ${name}` : name;
  if (cases.has(full)) throw new Error(`two cases named ${full}`);
  cases.set(full, { fn, scope });
}
it.each = (rows) => (title, fn) => {
  rows.forEach((row, index) => {
    it(format(title, row, index), () => (Array.isArray(row) ? fn(...row) : fn(row)));
  });
};
it.skipIf = (skip) => (skip ? () => {} : it);
export const test = it;

export const beforeAll = (fn) => void scope.before.push(fn);
export const afterAll = (fn) => void scope.after.push(fn);

// Date only: jose's JWKS cooldown and the token expiry read Date.now().
const RealDate = Date;
let offset = 0;
class ShiftedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offset);
    else super(...args);
  }
  static now() {
    return RealDate.now() + offset;
  }
}
export const vi = {
  useFakeTimers() {
    globalThis.Date = ShiftedDate;
    return vi;
  },
  setSystemTime(time) {
    offset = Number(time instanceof RealDate ? time.getTime() : time) - RealDate.now();
    return vi;
  },
  useRealTimers() {
    offset = 0;
    globalThis.Date = RealDate;
    return vi;
  },
};

/** The names of every registered case, in order. */
export const caseNames = () => [...cases.keys()];

/** Runs one case: the beforeAll hooks of its scopes on first use, then the case. */
export async function runCase(name) {
  const entry = cases.get(name);
  if (entry === undefined) throw new Error(`no case named ${name}`);
  const chain = [];
  for (let s = entry.scope; s !== undefined; s = s.parent) chain.unshift(s);
  for (const s of chain) {
    if (s.started) continue;
    s.started = true;
    for (const hook of s.before) await hook();
  }
  await entry.fn();
}

/** The afterAll hooks of every scope that started, innermost first. */
export async function finish() {
  for (const s of [...scopes].reverse()) {
    if (!s.started) continue;
    for (const hook of s.after) await hook();
  }
}
