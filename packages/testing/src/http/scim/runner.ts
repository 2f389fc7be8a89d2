import { randomBytes } from 'node:crypto';
import type {
  ScimCase,
  ScimCaseResult,
  ScimReport,
  ScimRequest,
  ScimSend,
  ScimStep,
  ScimStepResponse,
  ScimStepResult,
  ScimStepsOptions,
  ScimVars,
} from './types';

const PLACEHOLDER = /\{\{(\w+)\}\}/g;

/** `text` with each `{{name}}` replaced by `vars[name]` (through `encode`); an unknown name throws. */
export function substitute(text: string, vars: ScimVars, encode: (value: string) => string = (v) => v) {
  return text.replace(PLACEHOLDER, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`no value for {{${name}}} (no earlier step saved it)`);
    return encode(value);
  });
}

/** Every string inside `value` substituted (a string that is exactly one placeholder stays a string). */
export function substituteDeep(value: unknown, vars: ScimVars): unknown {
  if (typeof value === 'string') return substitute(value, vars);
  if (Array.isArray(value)) return value.map((item) => substituteDeep(item, vars));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteDeep(v, vars)]));
  return value;
}

/**
 * The value at a dotted path (`Resources.0.id`) of a parsed body, or undefined. A key holding dots (an
 * extension URN: `urn:…:enterprise:2.0:User.department`) is matched whole: the longest key that starts the
 * rest of the path wins.
 */
export function valueAt(body: unknown, path: string): unknown {
  let current = body;
  let rest = path;
  while (rest !== '') {
    if (typeof current !== 'object' || current === null) return undefined;
    const keys = Object.keys(current).filter((k) => rest === k || rest.startsWith(`${k}.`));
    const key = keys.sort((a, b) => b.length - a.length)[0];
    if (key === undefined) return undefined;
    current = (current as Record<string, unknown>)[key];
    rest = rest.slice(key.length + 1);
  }
  return current;
}

/** The path and encoded query string a step sends. */
export function requestPath(step: ScimStep, vars: ScimVars): string {
  const path = substitute(step.path, vars, encodeURIComponent);
  const query = Object.entries(step.query ?? {}).map(
    ([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(substitute(value, vars))}`,
  );
  return query.length === 0 ? path : `${path}?${query.join('&')}`;
}

/** A token no server has configured: as long as a real one, so only its value is wrong. */
const wrongToken = () => randomBytes(32).toString('base64url');

function requestOf(step: ScimStep, vars: ScimVars, token: string): ScimRequest {
  const headers: Record<string, string> = { accept: 'application/scim+json' };
  if (step.auth !== 'none')
    headers['authorization'] = `Bearer ${step.auth === 'wrong' ? wrongToken() : token}`;
  if (step.body !== undefined) headers['content-type'] = 'application/scim+json';
  for (const [name, value] of Object.entries(step.headers ?? {}))
    headers[name.toLowerCase()] = substitute(value, vars);
  return {
    method: step.method,
    path: requestPath(step, vars),
    headers,
    ...(step.body === undefined ? {} : { body: JSON.stringify(substituteDeep(step.body, vars)) }),
  };
}

/** A {@link ScimSend} through `fetch` to `baseUrl`. */
export function fetchSend(baseUrl: string): ScimSend {
  const root = baseUrl.replace(/\/+$/, '');
  return async (request) => {
    const response = await fetch(`${root}${request.path}`, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
    });
    return { status: response.status, headers: response.headers, body: await response.text() };
  };
}

function responseOf(answer: Awaited<ReturnType<ScimSend>>): ScimStepResponse {
  const headers: Record<string, string> = {};
  const entries =
    answer.headers instanceof Headers ? [...answer.headers.entries()] : Object.entries(answer.headers);
  for (const [name, value] of entries) headers[name.toLowerCase()] = String(value);
  let body: unknown;
  if (answer.body !== '') {
    try {
      body = JSON.parse(answer.body);
    } catch {
      body = answer.body;
    }
  }
  return { status: answer.status, headers, body };
}

const statusesOf = (step: ScimStep) => (typeof step.status === 'number' ? [step.status] : step.status);

/** What is wrong with `response` for `step` (status first: checks of a wrong status only add noise). */
function problemsOf(step: ScimStep, response: ScimStepResponse, vars: ScimVars): string[] {
  const expected = statusesOf(step);
  if (!expected.includes(response.status)) {
    const detail = valueAt(response.body, 'detail');
    return [
      `status ${response.status}, expected ${expected.join(' or ')}${typeof detail === 'string' ? ` (${detail})` : ''}`,
    ];
  }
  const problems: string[] = [];
  for (const check of step.checks ?? []) {
    try {
      const problem = check(response, vars);
      if (problem !== undefined) problems.push(problem);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  return problems;
}

function save(step: ScimStep, response: ScimStepResponse, vars: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [name, path] of Object.entries(step.save ?? {})) {
    const value = valueAt(response.body, path);
    if (typeof value === 'string' || typeof value === 'number') vars[name] = String(value);
    else problems.push(`no ${path} in the body to keep as {{${name}}}`);
  }
  return problems;
}

/** Run one step: its result, and whether the case may go on. */
async function runStep(step: ScimStep, vars: Record<string, string>, token: string, send: ScimSend) {
  const result: ScimStepResult = {
    name: step.name,
    method: step.method,
    path: step.path,
    outcome: 'failed',
    status: null,
    problems: [],
  };
  try {
    const request = requestOf(step, vars, token);
    result.path = request.path;
    const response = responseOf(await send(request));
    result.status = response.status;
    result.problems = problemsOf(step, response, vars);
    if (result.problems.length === 0) result.problems = save(step, response, vars);
  } catch (error) {
    result.problems = [`request failed: ${error instanceof Error ? error.message : String(error)}`];
  }
  if (result.problems.length === 0) result.outcome = 'passed';
  return result;
}

async function runCase(scimCase: ScimCase, token: string, send: ScimSend): Promise<ScimCaseResult> {
  const rand = randomBytes(6).toString('hex');
  const vars: Record<string, string> = { rand, ...scimCase.vars?.(rand) };
  const steps: ScimStepResult[] = [];
  let failed = false;
  for (const step of scimCase.steps) {
    if (failed) {
      steps.push({
        name: step.name,
        method: step.method,
        path: step.path,
        outcome: 'skipped',
        status: null,
        problems: [],
      });
      continue;
    }
    const result = await runStep(step, vars, token, send);
    failed = result.outcome === 'failed';
    steps.push(result);
  }
  return { list: scimCase.list, name: scimCase.name, passed: !failed, steps };
}

/** One line per case, then each failed step with its problems. */
export function summarize(cases: readonly ScimCaseResult[]): string {
  const passed = cases.filter((c) => c.passed).length;
  const lines = [`SCIM steps: ${passed} of ${cases.length} cases passed`];
  for (const c of cases) lines.push(`${c.passed ? 'pass' : 'FAIL'}  ${c.list}: ${c.name}`);
  for (const c of cases) {
    for (const step of c.steps.filter((s) => s.outcome === 'failed')) {
      lines.push(`\n${c.list}: ${c.name}\n  ${step.name}: ${step.method} ${step.path}`);
      for (const problem of step.problems) lines.push(`    - ${problem}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Run SCIM step lists (ours, {@link scimStepLists}, or your own) against a SCIM 2.0 server, over `fetch` to
 * `baseUrl` or through your own `request` function, and answer a report with a result per case. It never
 * throws for a failing server: assert on the report (`report.failed`, `report.summary`).
 *
 * Every case makes its own resources with fresh random names, so a list may run against a server that
 * already holds data, and twice.
 *
 * @example
 * ```ts
 * import { runScimSteps, scimStepLists } from '@jit-provision/testing';
 *
 * const report = await runScimSteps({
 *   baseUrl: 'http://127.0.0.1:3000/scim/v2',
 *   token: process.env.SCIM_TOKEN ?? '',
 *   steps: [...scimStepLists.oktaSpec, ...scimStepLists.entraReference],
 * });
 * console.log(report.summary);
 * ```
 */
export async function runScimSteps(options: ScimStepsOptions): Promise<ScimReport> {
  const send = options.request ?? (options.baseUrl === undefined ? undefined : fetchSend(options.baseUrl));
  if (send === undefined) throw new TypeError('runScimSteps needs `baseUrl` or `request`');
  const cases: ScimCaseResult[] = [];
  for (const scimCase of options.steps) {
    const result = await runCase(scimCase, options.token, send);
    cases.push(result);
    options.onCase?.(result);
  }
  const passed = cases.filter((c) => c.passed).length;
  return { passed, failed: cases.length - passed, cases, summary: summarize(cases) };
}
