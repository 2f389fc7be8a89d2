import { importJWK, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import { InvalidTokenError, isJitProvisionError, StoreUnavailableError } from '../errors';
import { Lru } from '../internal';
import type { Claims, IssuerConfig } from '../types';
import type { CheckedIntrospection } from './introspection-config';
import { MAX_NEGATIVE_ENTRIES } from './introspection-config';
import { type AnswerContext, verifiedFromAnswer } from './introspection-response';
import { checkKeyUrl, discoverMetadata } from './jwks';
import { tokenKey } from './token-key';
import type { VerifiedToken } from './verified';

/**
 * The global bound on outbound introspection calls (every issuer together): at most `burst` at once and
 * `perSecond` after that. Only tokens no cache answers reach it, so it is what a flood of garbage tokens
 * costs the provider; past it, such tokens get 503 `provisioning_unavailable` (Retry-After: 1).
 */
export const DEFAULT_INTROSPECTION_RATE = { perSecond: 50, burst: 100 } as const;
/** Backoff after a failed call: 1 s, doubling per consecutive failure, at most 30 s (like JWKS failures). */
const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 5_000;
/** Largest introspection answer read, bytes: a bigger one is a failure, not a token. */
const MAX_ANSWER_BYTES = 65_536;
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Options of {@link createIntrospector}. */
export interface IntrospectorOptions {
  /** Leeway for `exp`/`nbf`/`iat`, seconds. */
  clockToleranceSec: number;
  /** HTTP timeout of discovery and introspection calls, ms (default 5 s). */
  timeoutMs?: number | undefined;
  /** The global bound on outbound calls (default {@link DEFAULT_INTROSPECTION_RATE}). */
  rate?: { perSecond: number; burst?: number } | undefined;
  /** Keys and allowed algorithms of the issuer, for answers signed as a JWT (RFC 9701). */
  keysOf(issuer: string): { getKey: JWTVerifyGetKey; algorithms: string[] } | undefined;
  /** Claims → identity, as for a JWT. */
  identityOf(claims: Claims, config: IssuerConfig): VerifiedToken['identity'];
}

/** Asks the introspecting issuers about opaque tokens. */
export interface Introspector {
  introspect(token: string): Promise<VerifiedToken>;
}

const unavailable = (issuer: string, retryAfterMs: number, cause?: unknown) =>
  new StoreUnavailableError(`Token introspection at ${issuer} is unavailable`, {
    cause,
    reason: 'provider_unavailable',
    retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  });

/** A non-blocking token bucket: `take()` answers at once whether a call may start. */
function callBudget(rate: { perSecond: number; burst?: number }) {
  const perMs = rate.perSecond / 1000;
  const capacity = Math.max(1, rate.burst ?? rate.perSecond);
  let tokens = capacity;
  let last = Date.now();
  return () => {
    const now = Date.now();
    tokens = Math.min(capacity, tokens + (now - last) * perMs);
    last = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

function defaultAlg(jwk: { kty: string; crv?: string | undefined; alg?: string | undefined }): string {
  if (jwk.alg !== undefined) return jwk.alg;
  if (jwk.kty === 'EC') return jwk.crv === 'P-384' ? 'ES384' : jwk.crv === 'P-521' ? 'ES512' : 'ES256';
  return jwk.kty === 'OKP' ? 'EdDSA' : 'RS256';
}

/** The client authentication of one call: an Authorization header, or form fields (RFC 7523). */
function clientAuthentication(options: CheckedIntrospection, issuer: string) {
  const { clientId, clientSecret, privateKeyJwt } = options;
  if (clientSecret !== undefined) {
    // RFC 6749 §2.3.1: both parts form-encoded before Basic.
    const basic = btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`);
    return async () => ({ header: `Basic ${basic}`, fields: {} as Record<string, string> });
  }
  const jwk = privateKeyJwt as NonNullable<typeof privateKeyJwt>;
  const alg = defaultAlg(jwk);
  let key: ReturnType<typeof importJWK> | undefined;
  return async (endpoint: string) => {
    key ??= importJWK(jwk as Parameters<typeof importJWK>[0], alg);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg, ...(typeof jwk.kid === 'string' ? { kid: jwk.kid } : {}) })
      .setIssuer(clientId)
      .setSubject(clientId)
      // The endpoint called and the issuer: servers accept one or the other (RFC 7523 §3, RFC 7521 §5.1).
      .setAudience([endpoint, issuer])
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(crypto.randomUUID())
      .sign(await key);
    return {
      header: undefined,
      fields: { client_id: clientId, client_assertion_type: JWT_BEARER, client_assertion: assertion },
    };
  };
}

/** One issuer's introspection: its endpoint (discovered once), its calls, their backoff and negative cache. */
function issuerIntrospection(
  config: IssuerConfig,
  options: CheckedIntrospection,
  shared: IntrospectorOptions & { take: () => boolean },
) {
  const context: AnswerContext = {
    config,
    introspection: options,
    clockToleranceSec: shared.clockToleranceSec,
  };
  const timeoutMs = shared.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const authenticate = clientAuthentication(options, config.issuer);
  const negative = new Lru<string, true>(MAX_NEGATIVE_ENTRIES);
  let endpoint = options.endpoint;
  let failures = 0;
  let blockedUntil = 0;

  async function resolveEndpoint(): Promise<string> {
    if (endpoint !== undefined) return endpoint;
    const doc = await discoverMetadata(config.issuer, timeoutMs);
    const found = doc['introspection_endpoint'];
    if (typeof found !== 'string') throw new Error('discovery document has no introspection_endpoint');
    endpoint = checkKeyUrl(found, 'introspection_endpoint').href;
    return endpoint;
  }

  async function call(token: string): Promise<{ answer: Claims; bytes: number }> {
    const url = await resolveEndpoint();
    const auth = await authenticate(url);
    const body = new URLSearchParams({ token, token_type_hint: 'access_token', ...auth.fields });
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        accept: 'application/json, application/token-introspection+jwt',
        'content-type': 'application/x-www-form-urlencoded',
        ...(auth.header === undefined ? {} : { authorization: auth.header }),
      },
      body: body.toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`introspection answered ${response.status}`);
    if (text.length > MAX_ANSWER_BYTES) throw new Error('introspection answer too large');
    const type = response.headers.get('content-type') ?? '';
    const answer = type.startsWith('application/token-introspection+jwt')
      ? await signedAnswer(text)
      : (JSON.parse(text) as unknown);
    if (typeof answer !== 'object' || answer === null || typeof (answer as Claims)['active'] !== 'boolean') {
      throw new Error('introspection answer is not an RFC 7662 object');
    }
    return { answer: answer as Claims, bytes: text.length };
  }

  /** RFC 9701: a JWT signed with the issuer's keys, for this client, holding the answer in `token_introspection`. */
  async function signedAnswer(jwt: string): Promise<unknown> {
    const keys = shared.keysOf(config.issuer);
    if (keys === undefined) throw new Error('no keys to verify a signed introspection answer');
    const { payload } = await jwtVerify(jwt.trim(), keys.getKey, {
      issuer: config.issuer,
      algorithms: keys.algorithms,
      // RFC 9701 §5: the resource server: its client id, or (oidc-provider) the token's audience.
      audience: [options.clientId, ...configuredAudiences(config)],
      clockTolerance: shared.clockToleranceSec,
      typ: 'token-introspection+jwt',
    });
    return payload['token_introspection'];
  }

  return async (token: string): Promise<VerifiedToken> => {
    const key = options.negativeCacheMs > 0 ? tokenKey(token) : '';
    if (key !== '' && negative.get(key) !== undefined) throw inactive(config.issuer);
    const now = Date.now();
    if (now < blockedUntil) throw unavailable(config.issuer, blockedUntil - now);
    if (!shared.take()) throw unavailable(config.issuer, 1_000);
    let result: { answer: Claims; bytes: number };
    try {
      result = await call(token);
    } catch (cause) {
      const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** failures);
      failures++;
      blockedUntil = Date.now() + delay;
      throw unavailable(config.issuer, delay, cause);
    }
    failures = 0;
    if (result.answer['active'] !== true) {
      if (key !== '') negative.set(key, true, Date.now() + options.negativeCacheMs);
      throw inactive(config.issuer);
    }
    return verifiedFromAnswer(result.answer, context, result.bytes, shared.identityOf);
  };
}

const configuredAudiences = ({ audience }: IssuerConfig): string[] =>
  typeof audience === 'string' ? [audience] : Array.isArray(audience) ? audience : [];

const inactive = (issuer: string) =>
  new InvalidTokenError('inactive', 'The introspection endpoint says the token is not active', { issuer });

/**
 * The introspector of every issuer with `introspection`, or undefined when none has it. A token goes to
 * each in configuration order until one answers `active: true` (its checked claims are the verified token);
 * all `active: false` → 401 `invalid_token` (reason `inactive`, or why the last active answer was refused);
 * none active and one unreachable → 503 `provisioning_unavailable` (it cannot be told bad from good). Each
 * call spends one unit of the shared budget, so a token no issuer knows costs at most one call per issuer,
 * and all of them together at most {@link DEFAULT_INTROSPECTION_RATE}.
 *
 * @example
 * ```ts
 * const introspector = createIntrospector(checked.issuers, { clockToleranceSec: 5, keysOf, identityOf });
 * const verified = await introspector?.introspect(opaqueToken);
 * ```
 */
export function createIntrospector(
  issuers: readonly { config: IssuerConfig; introspection?: CheckedIntrospection | undefined }[],
  options: IntrospectorOptions,
): Introspector | undefined {
  const take = callBudget(options.rate ?? DEFAULT_INTROSPECTION_RATE);
  const shared = { ...options, take };
  const each = issuers.flatMap(({ config, introspection }) =>
    introspection === undefined ? [] : [issuerIntrospection(config, introspection, shared)],
  );
  if (each.length === 0) return undefined;
  return {
    async introspect(token) {
      let refusal: unknown;
      let outage: unknown;
      for (const ask of each) {
        try {
          return await ask(token);
        } catch (err) {
          if (isJitProvisionError(err, 'invalid_token')) {
            if (refusal === undefined || (refusal as InvalidTokenError).reason === 'inactive') refusal = err;
          } else outage ??= err;
        }
      }
      throw outage ?? refusal;
    },
  };
}
