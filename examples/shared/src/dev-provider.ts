// The examples' development OpenID Provider: panva's certified `oidc-provider` on loopback, so the pages sign
// in with a real authorization-code flow with PKCE. DEV ONLY: its login form accepts any password (the
// provider's built-in dev interactions) and its keys and sessions live in memory.
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The public client the pages sign in with (no secret: PKCE protects the code). */
export const PAGES_CLIENT_ID = 'jit-provision-pages';
/** The password the demo prints; the dev provider accepts any, this one is just easy to type. */
export const DEMO_PASSWORD = 'demo';

export interface DevProvider {
  /** The issuer URL (`http://127.0.0.1:<port>`), which the API trusts. */
  issuer: string;
  close(): Promise<void>;
}

interface Grant {
  addOIDCScope(scope: string): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}
interface OidcContext {
  oidc: {
    client: { clientId: string };
    session: { accountId: string; grantIdFor(clientId: string): string | undefined };
    result?: { consent?: { grantId?: string } };
    provider: { Grant: { new (init: Record<string, unknown>): Grant; find(id: string): Promise<Grant> } };
  };
}

/** A login name → the claims the API sees. Anyone can sign in as any name: `a@x.com`, or `bob` = bob@example.com. */
function claimsOf(accountId: string) {
  const email = accountId.includes('@') ? accountId.toLowerCase() : `${accountId.toLowerCase()}@example.com`;
  return { sub: accountId, email, email_verified: true, name: email.split('@')[0] };
}

/**
 * Starts the dev provider on `127.0.0.1:port` (0: any free port) for pages served at `appOrigins`.
 *
 * @example
 * const op = await startDevProvider({ audience: 'my-api', appOrigins: ['http://localhost:3000'] });
 */
export async function startDevProvider(options: {
  audience: string;
  appOrigins: readonly string[];
  port?: number;
}): Promise<DevProvider> {
  // oidc-provider ships no types: the specifier in a variable keeps tsc from asking for them; its surface used
  // here is typed by this cast.
  const moduleName = 'oidc-provider';
  const { default: Provider } = (await import(moduleName)) as {
    default: new (
      issuer: string,
      config: Record<string, unknown>,
    ) => { callback(): (req: unknown, res: unknown) => void; proxy: boolean };
  };
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The resource indicator the tokens are issued for; their `aud` is the API's audience.
  const resource = `urn:jit-provision:${options.audience}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: PAGES_CLIENT_ID,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: options.appOrigins.flatMap((origin) => [`${origin}/admin`, `${origin}/account`]),
      },
    ],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'dev', use: 'sig', alg: 'RS256' }] },
    pkce: { required: () => true },
    clientBasedCORS: () => true,
    findAccount: (_ctx: unknown, accountId: string) => ({
      accountId,
      claims: () => claimsOf(accountId),
    }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'openid email profile',
          audience: options.audience,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 15 * 60,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    // The API provisions from the access token alone: it carries the identity claims an ID token would.
    extraTokenClaims: (_ctx: unknown, token: { accountId?: string }) =>
      token.accountId === undefined ? undefined : claimsOf(token.accountId),
    // A first-party client: no consent screen, the grant is implied.
    loadExistingGrant: async (ctx: OidcContext) => {
      const { client, session, result, provider: op } = ctx.oidc;
      const grantId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      if (grantId) return op.Grant.find(grantId);
      const grant = new op.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid email profile');
      grant.addResourceScope(resource, 'openid email profile');
      await grant.save();
      return grant;
    },
    ttl: { Session: 3600, Interaction: 600, Grant: 3600, AuthorizationCode: 60, IdToken: 900 },
  });
  server.on('request', provider.callback());
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
