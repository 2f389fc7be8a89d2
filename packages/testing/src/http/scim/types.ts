// The data a SCIM step list is made of. Steps are plain data (a method, a path with placeholders, a body, the
// statuses accepted, small check functions), so a list can be read, filtered, extended and run against any
// SCIM 2.0 server, ours or not.

/** The HTTP methods a SCIM client sends (RFC 7644 §3.2). */
export type ScimMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Values a case has collected: its own `{{rand}}`, what {@link ScimCase.vars} made, what steps saved. */
export type ScimVars = Readonly<Record<string, string>>;

/** What a step got back: the status, the headers (names in lower case) and the body (parsed when JSON). */
export interface ScimStepResponse {
  status: number;
  headers: Readonly<Record<string, string>>;
  /** The parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
}

/**
 * One assertion on a response: answers a problem (shown in the report) or nothing when it holds. A check
 * that throws fails the step too, with the thrown message as its problem.
 */
export type ScimCheck = (response: ScimStepResponse, vars: ScimVars) => string | undefined;

/** One request of a case and what its answer must be. */
export interface ScimStep {
  /** What the step proves, in the report. */
  name: string;
  method: ScimMethod;
  /** Relative to the SCIM root (`/Users/{{userId}}`); each placeholder is URL-encoded when substituted. */
  path: string;
  /** Query parameters, written unencoded (`filter: 'userName eq "{{userName}}"'`); placeholders allowed. */
  query?: Readonly<Record<string, string>> | undefined;
  /** JSON body; every string in it may hold placeholders. */
  body?: unknown;
  /** Which credentials to send: the configured token (default), a wrong one, or none. */
  auth?: 'token' | 'wrong' | 'none' | undefined;
  /** Extra request headers (they win over the defaults, `Content-Type: application/scim+json` included). */
  headers?: Readonly<Record<string, string>> | undefined;
  /** The statuses that pass: one, or the ones a conforming server may choose between. */
  status: number | readonly number[];
  checks?: readonly ScimCheck[] | undefined;
  /** Values to keep for later steps: placeholder name → dotted path in the body (`id`, `Resources.0.id`). */
  save?: Readonly<Record<string, string>> | undefined;
}

/**
 * A sequence of steps sharing placeholders: `{{rand}}` (fresh hex per run of the case), what `vars` makes of
 * it, and what earlier steps saved. When a step fails the case stops there: the later steps depend on it.
 */
export interface ScimCase {
  /** The list it belongs to (`okta-spec`, `entra-reference/users`, …). */
  list: string;
  name: string;
  /** More placeholders, from the case's random suffix (e.g. a userName and its upper-cased twin). */
  vars?: ((rand: string) => Record<string, string>) | undefined;
  steps: readonly ScimStep[];
}

/** A request as the runner sends it. */
export interface ScimRequest {
  method: ScimMethod;
  /** Relative to the SCIM root, with the encoded query string. */
  path: string;
  headers: Record<string, string>;
  body?: string | undefined;
}

/** Send one request through your app (e.g. Hono's `app.request`, Fastify's `inject`) and answer it. */
export type ScimSend = (request: ScimRequest) => Promise<{
  status: number;
  headers: Readonly<Record<string, string>> | Headers;
  body: string;
}>;

/** Options of {@link runScimSteps}: where the server is (`baseUrl` or `request`) and the bearer token. */
export interface ScimStepsOptions {
  /** The SCIM root, e.g. `http://127.0.0.1:3000/scim/v2` (requests go through `fetch`). */
  baseUrl?: string | undefined;
  /** Or: send each request yourself (no socket needed). */
  request?: ScimSend | undefined;
  /** A bearer token the server accepts. */
  token: string;
  /** The cases to run, in order. */
  steps: readonly ScimCase[];
  /** Called after each case (to print progress or stop early by throwing). */
  onCase?: ((result: ScimCaseResult) => void) | undefined;
}

/** How one step went: `skipped` when an earlier step of its case failed. */
export interface ScimStepResult {
  name: string;
  method: ScimMethod;
  /** The path as sent, placeholders substituted. */
  path: string;
  outcome: 'passed' | 'failed' | 'skipped';
  /** The status the server answered (null when skipped or when the request itself failed). */
  status: number | null;
  problems: string[];
}

/** How one case went. */
export interface ScimCaseResult {
  list: string;
  name: string;
  passed: boolean;
  steps: ScimStepResult[];
}

/** The whole run: a result per case, counts, and a text summary (one line per case, then the failures). */
export interface ScimReport {
  passed: number;
  failed: number;
  cases: ScimCaseResult[];
  summary: string;
}
