import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  type JWTHeaderParameters,
  SignJWT,
} from 'jose';

/** Algorithms the dev issuer can sign with. */
export type DevIssuerAlg = 'RS256' | 'ES256';

/** Options of {@link createDevIssuer}. */
export interface DevIssuerOptions {
  /** Port to listen on; default 0 (any free port). */
  port?: number;
  /** Interface to bind; default `127.0.0.1` (loopback only). */
  host?: string;
  /** Signing algorithm of generated keys; default `RS256`. */
  alg?: DevIssuerAlg;
}

/** Options of {@link DevIssuer.mint}. */
export interface MintOptions {
  /** Lifetime: seconds or a jose time span (`'5m'`); `false` omits `exp`. Default 300 s. */
  expiresIn?: number | string | false;
  /** `iat`: seconds from now (may be negative); `false` omits it. Default now. */
  issuedAt?: number | false;
  /** `nbf`: seconds from now (may be negative) or a jose time span. Omitted by default. */
  notBefore?: number | string;
  /** `aud` claim. */
  audience?: string | string[];
  /** Sign with this existing key (e.g. an old one after {@link DevIssuer.rotateKeys}); default the newest. */
  kid?: string;
  /** Sign with another algorithm (needs a key of that type: generated on demand). */
  alg?: DevIssuerAlg;
  /** Protected-header overrides, applied last, e.g. `{ kid: 'unknown' }` or `{ crit: ['x'] }`. */
  header?: Partial<JWTHeaderParameters> & Record<string, unknown>;
}

/** A running local OIDC issuer. See {@link createDevIssuer}. */
export interface DevIssuer {
  /** The issuer URL (`iss` of minted tokens), e.g. `http://127.0.0.1:54321`. */
  readonly issuer: string;
  /** `${issuer}/jwks` */
  readonly jwksUri: string;
  /** Signs a JWT with `iss` = this issuer, `iat` now and `exp` in five minutes unless told otherwise (`issuedAt`, `expiresIn`). */
  mint(claims: { sub: string } & Record<string, unknown>, options?: MintOptions): Promise<string>;
  /** Adds a new signing key with a new `kid` and makes it the default; old keys stay published. Returns the kid. */
  rotateKeys(alg?: DevIssuerAlg): Promise<string>;
  /** Kid of the key `mint` uses by default. */
  readonly currentKid: string;
  /** The published key set (what `/jwks` serves). */
  jwks(): JSONWebKeySet;
  /** SPKI PEM of a public key (default: the current one); handy for key-confusion attack tests. */
  publicKeyPem(kid?: string): Promise<string>;
  /** How many times `/jwks` was fetched. */
  readonly jwksHits: number;
  /** How many times the discovery document was fetched. */
  readonly discoveryHits: number;
  close(): Promise<void>;
}

interface KeyEntry {
  kid: string;
  alg: DevIssuerAlg;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function newKey(alg: DevIssuerAlg): Promise<KeyEntry> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, jwk };
}

/**
 * A real, local OIDC issuer for demos and tests: it generates its own key pair and serves
 * `/.well-known/openid-configuration` and `/jwks` over HTTP on loopback, so verification runs exactly as
 * it does against Keycloak or Auth0. Never use it in production.
 *
 * @example
 * ```ts
 * import { createDevIssuer } from '@jit-provision/core/dev';
 *
 * const idp = await createDevIssuer();
 * const provisioner = createProvisioner({ store, issuers: [{ issuer: idp.issuer, audience: 'api' }] });
 * const token = await idp.mint({ sub: 'alice', email: 'alice@example.com' }, { audience: 'api' });
 * // curl -H "Authorization: Bearer $token" http://localhost:3000/me
 * await idp.close();
 * ```
 */
export async function createDevIssuer(options: DevIssuerOptions = {}): Promise<DevIssuer> {
  const defaultAlg = options.alg ?? 'RS256';
  const keys: KeyEntry[] = [await newKey(defaultAlg)];
  let current = keys[0] as KeyEntry;
  let jwksHits = 0;
  let discoveryHits = 0;
  let issuer = '';

  const publicJwks = (): JSONWebKeySet => ({ keys: keys.map((k) => ({ ...k.jwk })) });

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { error: 'method_not_allowed' });
    if (path === '/.well-known/openid-configuration') {
      discoveryHits++;
      return send(200, {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
        subject_types_supported: ['public'],
        response_types_supported: ['code'],
      });
    }
    if (path === '/jwks') {
      jwksHits++;
      return send(200, publicJwks());
    }
    return send(404, { error: 'not_found' });
  });
  // Keep-alive sockets would hold close() open until they time out.
  server.keepAliveTimeout = 1_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  issuer = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;

  const keyFor = async (options: MintOptions): Promise<KeyEntry> => {
    if (options.kid !== undefined) {
      const found = keys.find((k) => k.kid === options.kid);
      if (!found) throw new Error(`dev issuer: no key with kid ${options.kid}`);
      return found;
    }
    if (options.alg === undefined || options.alg === current.alg) return current;
    const existing = [...keys].reverse().find((k) => k.alg === options.alg);
    if (existing) return existing;
    const created = await newKey(options.alg);
    keys.push(created);
    return created;
  };

  return {
    get issuer() {
      return issuer;
    },
    get jwksUri() {
      return `${issuer}/jwks`;
    },
    get currentKid() {
      return current.kid;
    },
    get jwksHits() {
      return jwksHits;
    },
    get discoveryHits() {
      return discoveryHits;
    },
    jwks: publicJwks,
    async mint(claims, mintOptions = {}) {
      const key = await keyFor(mintOptions);
      const jwt = new SignJWT({ iss: issuer, ...claims }).setProtectedHeader({
        alg: key.alg,
        typ: 'JWT',
        kid: key.kid,
        ...mintOptions.header,
      });
      const { issuedAt } = mintOptions;
      if (issuedAt !== false)
        jwt.setIssuedAt(issuedAt === undefined ? undefined : Math.floor(Date.now() / 1000) + issuedAt);
      const expiresIn = mintOptions.expiresIn ?? 300;
      if (expiresIn !== false && claims['exp'] === undefined) {
        jwt.setExpirationTime(
          typeof expiresIn === 'number' ? Math.floor(Date.now() / 1000) + expiresIn : expiresIn,
        );
      }
      if (mintOptions.notBefore !== undefined) {
        const nbf = mintOptions.notBefore;
        jwt.setNotBefore(typeof nbf === 'number' ? Math.floor(Date.now() / 1000) + nbf : nbf);
      }
      if (mintOptions.audience !== undefined) jwt.setAudience(mintOptions.audience);
      return jwt.sign(key.privateKey);
    },
    async rotateKeys(alg = current.alg) {
      const key = await newKey(alg);
      keys.push(key);
      current = key;
      return key.kid;
    },
    async publicKeyPem(kid = current.kid) {
      const key = keys.find((k) => k.kid === kid);
      if (!key) throw new Error(`dev issuer: no key with kid ${kid}`);
      return exportSPKI(key.publicKey);
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
