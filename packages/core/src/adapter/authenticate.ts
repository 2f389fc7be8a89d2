import { type HttpResponse, isJitProvisionError, toHttpResponse } from '../errors';
import { headerValue } from '../internal';
import type { Provisioner } from '../provisioning';
import type { AuthInput, AuthResult } from '../types';

/** Options every adapter's `jitProvision` accepts, with the same meaning in each framework. */
export interface JitProvisionOptions {
  /**
   * Requests for which this returns true pass without authentication (`auth` stays empty).
   * Gets the path the framework routes on (no query string; percent-decoded as the router decodes it, see
   * `routedPath`, so `/%61pi/x` arrives as `/api/x`) and the method. Prefer mounting the middleware only on
   * protected routes; keep `skip` for a few exact public paths.
   */
  skip?: (path: string, method: string) => boolean;
  /** No Authorization header → continue with no `auth`. A present but invalid token is still a 401. */
  optional?: boolean;
}

/** The adapter-facing request: what every framework can hand over cheaply. */
export interface AdapterRequest extends AuthInput {
  /**
   * The routed path without the query string (`routedPath`). Only `skip` reads it: an adapter may pass ''
   * when `skip` is unset.
   */
  path: string;
  /** The request method. Only `skip` reads it: an adapter may pass '' when `skip` is unset. */
  method: string;
  /**
   * The request is routed to a route that needs no token (`Route.public`): without an `Authorization`
   * header it continues anonymous, as with `optional`; a token that is present is verified as always.
   */
  public?: boolean;
  /**
   * The Authorization header exactly as `headerValue(headers, 'authorization')` would read it (an array when
   * repeated), when the adapter already has it; the synchronous hit path then skips searching `headers`.
   */
  authorization?: string | string[] | undefined;
}

/** What an adapter does next: continue with `auth` (null when skipped or anonymous), or answer `response`. */
export type AdapterOutcome =
  | { ok: true; auth: AuthResult | null }
  | { ok: false; response: HttpResponse; error: unknown };

// Shared by every skipped or anonymous request: frozen, so no adapter can alter what the next one gets.
const ANONYMOUS: AdapterOutcome = Object.freeze({ ok: true, auth: null });

/**
 * The outcome of a request that needs no I/O and no promise, or undefined when the adapter must call
 * {@link authenticateRequest}: a skipped request, or one whose token and user are both cached and still
 * valid (exp, revocation and disabled status checked as on every path). Lets an adapter continue
 * synchronously on the common request; anything else (misses, failures, `optional`) goes the full way.
 *
 * @example
 * ```ts
 * const now = authenticateCachedRequest(provisioner, request, options);
 * if (now?.ok) { ctx.auth = now.auth; return next(); }
 * const outcome = await authenticateRequest(provisioner, request, options);
 * ```
 */
export function authenticateCachedRequest(
  provisioner: Pick<Provisioner, 'authenticateCached'>,
  request: AdapterRequest,
  options: JitProvisionOptions = {},
): AdapterOutcome | undefined {
  try {
    if (options.skip?.(request.path, request.method)) return ANONYMOUS;
    if (provisioner.authenticateCached === undefined) return undefined;
    // An adapter that already read the header hands it over: no search through every header name.
    const auth = provisioner.authenticateCached(
      'authorization' in request ? request.authorization : headerValue(request.headers, 'authorization'),
    );
    return auth === undefined ? undefined : { ok: true, auth };
  } catch {
    // The full path raises the same failure again and answers it.
    return undefined;
  }
}

/**
 * The whole of an adapter's decision in one framework-neutral call: skip, optional, authenticate,
 * and the HTTP answer of a failure. Adapters only translate their request in and this outcome out.
 *
 * @example
 * ```ts
 * const outcome = await authenticateRequest(provisioner, { headers, path, method }, { optional: true });
 * if (outcome.ok) ctx.auth = outcome.auth;
 * else send(outcome.response.status, outcome.response.headers, outcome.response.body);
 * ```
 */
export function authenticateRequest(
  provisioner: Pick<Provisioner, 'authenticate'>,
  request: AdapterRequest,
  options: JitProvisionOptions = {},
): Promise<AdapterOutcome> {
  // Not `async`: one promise per request instead of three.
  const failed = (error: unknown): AdapterOutcome =>
    (options.optional || request.public === true) &&
    isJitProvisionError(error) &&
    error.code === 'missing_token'
      ? ANONYMOUS
      : { ok: false, response: toHttpResponse(error), error };
  try {
    if (options.skip?.(request.path, request.method)) return Promise.resolve(ANONYMOUS);
    return provisioner
      .authenticate({ headers: request.headers })
      .then((auth) => ({ ok: true, auth }), failed);
  } catch (error) {
    return Promise.resolve(failed(error));
  }
}
