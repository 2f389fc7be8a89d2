import { KRATOS_MAX_BODY_BYTES, type Route } from '../adapter';
import {
  ConfigurationError,
  INVITATION_ERROR_CODES,
  InvalidApiKeyError,
  isJitProvisionError,
  toHttpResponse,
} from '../errors';
import { normaliseEmail, safeEqual } from '../identity';
import { headerValue } from '../internal';
import type { InvitationService } from '../invitations';
import type { Provisioner } from '../provisioning';
import type { Invitation } from '../store';
import type { Identity, UserRecord } from '../types';
import {
  emailOf,
  emailVerified,
  type KratosContext,
  nameFrom,
  parseContext,
  readBody,
  requireIdentityId,
} from './context';

/** The neutral request a webhook handler reads: parsed JSON (or the raw text/bytes, parsed here). */
export interface KratosWebhookRequest {
  headers: Headers | Record<string, string | string[] | undefined>;
  body: unknown;
}

/** The neutral answer; `body` is JSON-serialisable. */
export interface KratosWebhookResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** One webhook: reads the neutral request, answers the neutral response (errors included, never a throw). */
export type KratosWebhookHandler = (request: KratosWebhookRequest) => Promise<KratosWebhookResponse>;

/** Options of {@link kratosWebhooks}. */
export interface KratosWebhooksOptions {
  /** Needed by `checkInvitation` and `consumeInvitation`. */
  invitations?: InvitationService;
  provisioner: Provisioner;
  /** Shared secret Kratos sends (`auth.type: api_key`); a list while rotating. At least 16 characters. */
  apiKey: string | readonly string[];
  /** Header carrying it; default `x-api-key`. */
  apiKeyHeader?: string;
  /** The issuer users from Kratos are keyed under (e.g. Kratos' public URL); matches your JWT `iss`. */
  issuer: string;
}

/** The Kratos webhook handlers and their route table; see {@link kratosWebhooks}. */
export interface KratosWebhooks {
  /** POST `/check-invitation`, `/consume-invitation`, `/provision-identity`, for an adapter's route mounter. */
  routes: Route[];
  /** Registration, before the identity is saved (`response.parse: true`): admit or refuse, set `traits.role`. */
  checkInvitation: KratosWebhookHandler;
  /** Registration, after save: consume the invitation and provision the user with its role. Idempotent. */
  consumeInvitation: KratosWebhookHandler;
  /** Registration, after save: provision the user now. Idempotent. */
  provisionIdentity: KratosWebhookHandler;
  /** Throws `InvalidApiKeyError` unless `headers` carry the key; adapters call it before reading the body. */
  authorize(headers: KratosWebhookRequest['headers']): void;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** Kratos shows this under the email field; one message for every reason, so nothing can be probed. */
const refusal = (): KratosWebhookResponse => ({
  status: 400,
  headers: JSON_HEADERS,
  body: {
    messages: [
      {
        instance_ptr: '#/traits/email',
        messages: [
          {
            id: 4000001,
            text: 'This invitation is not valid for this email address.',
            type: 'error',
          },
        ],
      },
    ],
  },
});

/** What every handler works with. */
interface WebhookContext {
  provisioner: Provisioner;
  issuer: string;
  /** The invitation service; throws a `ConfigurationError` when none was given. */
  invitations: () => InvitationService;
}

/**
 * The API-key check of every call (constant time, every key compared); throws `InvalidApiKeyError`.
 * Refuses a key list that is empty or holds a key shorter than 16 characters.
 */
function apiKeyCheck(
  apiKey: KratosWebhooksOptions['apiKey'],
  apiKeyHeader: string | undefined,
): KratosWebhooks['authorize'] {
  const keys = typeof apiKey === 'string' ? [apiKey] : [...(apiKey ?? [])];
  if (keys.length === 0 || keys.some((k) => typeof k !== 'string' || k.length < 16)) {
    throw new ConfigurationError('kratosWebhooks needs an apiKey of at least 16 characters');
  }
  const headerName = (apiKeyHeader ?? 'x-api-key').toLowerCase();
  return (headers) => {
    const raw =
      typeof headers === 'object' && headers !== null ? headerValue(headers, headerName) : undefined;
    // A repeated key header is as good as none.
    const given = typeof raw === 'string' ? raw : undefined;
    // Check every key so the time taken does not tell which one (or whether any) came close.
    let ok = false;
    for (const key of keys) if (safeEqual(given ?? '', key)) ok = true;
    if (given === undefined || !ok) throw new InvalidApiKeyError();
  };
}

/** A handler: the key checked before the body is read, the context parsed, every error answered (never thrown). */
const handle =
  (
    authorize: KratosWebhooks['authorize'],
    run: (ctx: KratosContext) => Promise<KratosWebhookResponse>,
  ): KratosWebhookHandler =>
  async (request) => {
    try {
      authorize(request?.headers ?? {});
      return await run(parseContext(readBody(request.body)));
    } catch (err) {
      return toHttpResponse(err);
    }
  };

/** An invitation refused for any reason gets the one form answer; any other error goes on. */
const refuseInvalid = (err: unknown): KratosWebhookResponse => {
  if (isJitProvisionError(err, 'invalid_request', ...INVITATION_ERROR_CODES)) return refusal();
  throw err;
};

/** A 200 JSON answer. */
const answer = (body: Record<string, unknown>): KratosWebhookResponse => ({
  status: 200,
  headers: JSON_HEADERS,
  body,
});

/** `checkInvitation`: admit a registration whose invitation is valid for its email, with the invitation's role. */
async function checkInvitation(
  { invitations }: WebhookContext,
  ctx: KratosContext,
): Promise<KratosWebhookResponse> {
  try {
    const invitation = await invitations().validate({
      token: ctx.token ?? '',
      email: emailOf(ctx.traits) ?? '',
    });
    return answer({ identity: { traits: { ...ctx.traits, role: invitation.role } } });
  } catch (err) {
    return refuseInvalid(err);
  }
}

/**
 * A retry of a `consumeInvitation` call that went through: same invitation, same email, and the user that
 * consume provisioned for this very identity exists. Its user, or null for a refusal.
 */
async function consumedBefore(
  { invitations, provisioner, issuer }: WebhookContext,
  subject: string,
  token: string,
  rawEmail: string,
): Promise<UserRecord | null> {
  const found = await invitations().find({ token });
  const user = await provisioner.getUser({ issuer, subject });
  const email = normaliseEmail(rawEmail);
  return found !== null && found.revokedAt === null && safeEqual(email, found.email) ? user : null;
}

/** `consumeInvitation`: consume the invitation and provision the user with its role; idempotent. */
async function consumeInvitation(
  context: WebhookContext,
  ctx: KratosContext,
): Promise<KratosWebhookResponse> {
  const { provisioner, issuer } = context;
  const service = context.invitations();
  const subject = requireIdentityId(ctx);
  const token = ctx.token ?? '';
  const rawEmail = emailOf(ctx.traits) ?? '';
  let invitation: Invitation;
  try {
    invitation = await service.consume({ token, email: rawEmail });
  } catch (err) {
    if (isJitProvisionError(err, 'invitation_consumed')) {
      const user = await consumedBefore(context, subject, token, rawEmail);
      if (user !== null) return answer({ user_id: user.id });
    }
    return refuseInvalid(err);
  }
  try {
    const email = emailOf(ctx.traits);
    const name = nameFrom(ctx.traits);
    const user = await provisioner.preProvision({
      issuer,
      subject,
      role: invitation.role,
      ...(email === undefined ? {} : { email }),
      ...(name === undefined ? {} : { name }),
    });
    return answer({ user_id: user.id });
  } catch (err) {
    // No user, so the invitation must stay usable: Kratos (or the person) can try again.
    await service.unconsume(invitation);
    throw err;
  }
}

/** `provisionIdentity`: provision the user of the saved identity now; idempotent. */
async function provisionIdentity(
  { provisioner, issuer }: WebhookContext,
  ctx: KratosContext,
): Promise<KratosWebhookResponse> {
  const email = emailOf(ctx.traits);
  const identity: Identity = { issuer, subject: requireIdentityId(ctx) };
  if (email !== undefined) identity.email = email;
  const verified = emailVerified(ctx, email);
  if (verified !== undefined) identity.emailVerified = verified;
  const name = nameFrom(ctx.traits);
  if (name !== undefined) identity.name = name;
  const { user, created } = await provisioner.ensureUserExists(identity);
  return answer({ user_id: user.id, created });
}

/**
 * Ory Kratos webhook handlers, framework-neutral, with their route table (`routes`): the adapters mount it
 * as POST `/check-invitation`, `/consume-invitation` and `/provision-identity`. Every call needs the API key (compared in constant
 * time; 401 otherwise, before anything is read or changed). Bodies may be Kratos' whole jsonnet context
 * (`function(ctx) ctx`) or the flat `{ identity_id?, traits, request_url }`; the invitation token is the
 * `token` query parameter of the flow's `request_url`.
 *
 * @example
 * ```ts
 * const hooks = kratosWebhooks({ invitations, provisioner, apiKey: process.env.KRATOS_WEBHOOK_KEY!, issuer: 'https://auth.example.com' });
 * const { status, headers, body } = await hooks.checkInvitation({ headers: req.headers, body: req.body });
 * ```
 */
export function kratosWebhooks(options: KratosWebhooksOptions): KratosWebhooks {
  const { invitations, provisioner, issuer } = options;
  const authorize = apiKeyCheck(options.apiKey, options.apiKeyHeader);
  if (typeof provisioner?.ensureUserExists !== 'function') {
    throw new ConfigurationError('kratosWebhooks needs a provisioner');
  }
  if (typeof issuer !== 'string' || issuer.length === 0) {
    throw new ConfigurationError('kratosWebhooks needs the issuer users are keyed under');
  }
  const context: WebhookContext = {
    provisioner,
    issuer,
    invitations: () => {
      if (invitations === undefined)
        throw new ConfigurationError('kratosWebhooks needs `invitations` for this hook');
      return invitations;
    },
  };
  const bound = (run: (context: WebhookContext, ctx: KratosContext) => Promise<KratosWebhookResponse>) =>
    handle(authorize, (ctx) => run(context, ctx));
  const post = (path: string, handler: KratosWebhookHandler): Route => ({
    method: 'POST',
    path,
    handler,
    authorize,
    // Kratos sends its API key, never a bearer token: an app-wide `jitProvision` must let it through.
    public: true,
    maxBodyBytes: KRATOS_MAX_BODY_BYTES,
  });
  const hooks = {
    checkInvitation: bound(checkInvitation),
    consumeInvitation: bound(consumeInvitation),
    provisionIdentity: bound(provisionIdentity),
  };
  const routes = [
    post('/check-invitation', hooks.checkInvitation),
    post('/consume-invitation', hooks.consumeInvitation),
    post('/provision-identity', hooks.provisionIdentity),
  ];
  return { routes, ...hooks, authorize };
}
