import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { ConfigurationError, InvalidInvitationError, InvalidRequestError } from '../errors';
import { hasControlCharacters, isRole, normaliseEmail, ROLE_RULE, safeEqual } from '../identity';
import { createTokenBucket, positive } from '../internal';
import type { Invitation, InvitationStatus, InvitationStore, Store } from '../store';
import { invitationCreated } from './events';

/** An HMAC key for invitation tokens: at least 32 bytes. */
export type InvitationSecret = string | Uint8Array;

/** What `send` receives: never the bare token, only the URL that embeds it. */
export interface InvitationMessage {
  email: string;
  /** `urlFor(token)`, or undefined when no `urlFor` was given. */
  url: string | undefined;
  invitation: Invitation;
}

/** Options of {@link createInvitationService}. */
export interface InvitationServiceOptions {
  /** A Store with `invitations` (both bundled stores have one). */
  store: Store;
  /** HMAC key, or a list while rotating: tokens are signed with the first and accepted with any. */
  secret: InvitationSecret | readonly InvitationSecret[];
  /** How long an invitation stays valid; default 7 days. */
  ttlMs?: number;
  /** Builds the link sent to the invitee, e.g. `` (t) => `https://app.example.com/signup?token=${t}` ``. */
  urlFor?: (token: string) => string;
  /** Delivers the invitation (mail it). A failure undoes the invitation (see `create`). */
  send?: (message: InvitationMessage) => void | Promise<void>;
  /** Clock, for tests. */
  now?: () => Date;
}

/** What {@link InvitationService.create} takes: one invitee. */
export interface CreateInvitationInput {
  email: string;
  /** Role the invitee gets on first login; default 'user'. */
  role?: string;
  /** Who invited (an admin's user id or email), kept for audit. */
  invitedBy: string;
  /** How long this invitation stays valid, instead of the service's `ttlMs`. */
  expiresInMs?: number;
}

/** A freshly created invitation. `token` exists only here: it is never stored or logged. */
export interface CreatedInvitation {
  invitation: Invitation;
  token: string;
  url: string | undefined;
}

/** One entry of `createMany`'s answer, in input order. A duplicate email shares the first one's invitation. */
export type CreateManyResult =
  | ({ ok: true; email: string; duplicate: boolean } & CreatedInvitation)
  | { ok: false; email: string; error: unknown };

/** Options of {@link InvitationService.createMany}. */
export interface CreateManyOptions {
  /** Invitations created at once; default 4. */
  concurrency?: number;
  /** Deliveries started per second at most; default 10. */
  perSecond?: number;
  /** Told about each entry as soon as its outcome is known (duplicates at the end), for progress reports. */
  onResult?: (result: CreateManyResult, index: number) => void;
}

/** What a signup form may show before the invitation is used. */
export interface InvitationPreview {
  email: string;
  role: string;
  expiresAt: Date;
}

/** Single-use, expiring, HMAC-protected invitations. Create one with {@link createInvitationService}. */
export interface InvitationService {
  /** Create (replacing a pending one for the same email) and `send`. Throws when `send` fails, leaving nothing behind. */
  create(input: CreateInvitationInput): Promise<CreatedInvitation>;
  /** Bulk create, throttled; one failing item never aborts the batch. */
  createMany(
    list: readonly CreateInvitationInput[],
    options?: CreateManyOptions,
  ): Promise<CreateManyResult[]>;
  peek(input: { token: string }): Promise<InvitationPreview>;
  /** The invitation of a token whatever its state (admin tools, idempotent webhooks); null when unknown. */
  find(input: { token: string }): Promise<Invitation | null>;
  validate(input: { token: string; email: string }): Promise<Invitation>;
  /** Validate and mark used, atomically: of any number of racing calls exactly one succeeds. */
  consume(input: { token: string; email: string }): Promise<Invitation>;
  /** Soft (default): mark revoked, kept for audit. Hard: delete. False when there was no such invitation. */
  revoke(id: string, options?: { soft?: boolean }): Promise<boolean>;
  /** Delete invitations expired, consumed or revoked more than `olderThanMs` ago; returns how many. */
  purgeExpired(options: { olderThanMs: number }): Promise<number>;
  list(filter?: { status?: InvitationStatus }): Promise<Invitation[]>;
  /** Consume the pending invitation of an (already verified) email, without a token; null when none. */
  consumePendingForEmail(email: string): Promise<Invitation | null>;
  /**
   * Put back an invitation whose user creation failed: the one `consume` / `consumePendingForEmail`
   * returned. A no-op (false) once it was replaced by a re-invite, revoked, or consumed again.
   */
  unconsume(invitation: Pick<Invitation, 'id' | 'consumedAt'>): Promise<boolean>;
  /** The store this service was created with. */
  readonly store: Store;
}

const DAY = 24 * 60 * 60 * 1000;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** Every {@link InvitationStatus}, for input checks. */
/**
 * Where an invitation stands at `now`: revoked, consumed, expired or still pending (in that order of
 * precedence), as `list({ status })` filters it.
 *
 * @example
 * ```ts
 * for (const invitation of await invitations.list()) console.log(invitation.email, invitationStatus(invitation));
 * ```
 */
export function invitationStatus(invitation: Invitation, now: number = Date.now()): InvitationStatus {
  if (invitation.revokedAt !== null) return 'revoked';
  if (invitation.consumedAt !== null) return 'consumed';
  return invitation.expiresAt.getTime() <= now ? 'expired' : 'pending';
}

export const INVITATION_STATUSES: readonly InvitationStatus[] = ['pending', 'consumed', 'revoked', 'expired'];

function secretBytes(secret: unknown): Buffer {
  if (typeof secret === 'string') return Buffer.from(secret, 'utf8');
  if (secret instanceof Uint8Array) return Buffer.from(secret);
  throw new ConfigurationError('invitation secret must be a string or Uint8Array');
}

function checkRole(role: unknown): string {
  if (!isRole(role)) throw new InvalidRequestError(`role ${ROLE_RULE}`);
  return role;
}

function checkInvitedBy(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255 || hasControlCharacters(value)) {
    throw new InvalidRequestError('invitedBy must be 1-255 characters without control characters');
  }
  return value;
}

function invitationStoreOf(store: unknown): InvitationStore {
  const invitations = typeof store === 'object' && store !== null ? (store as Store).invitations : undefined;
  if (typeof invitations?.createInvitation !== 'function') {
    throw new ConfigurationError('createInvitationService needs a store with `invitations`');
  }
  return invitations;
}

/**
 * Invitation-only signup. Tokens are 32 random bytes (base64url) shown once; only their
 * HMAC-SHA256 under `secret` is stored, so a leaked database yields no usable link.
 * Every refusal is an `InvalidInvitationError` whose `code` says why (`invitation_expired`, ...);
 * HTTP answers collapse them to `invalid_invitation`.
 *
 * @example
 * ```ts
 * const invitations = createInvitationService({
 *   store,
 *   secret: process.env.INVITATION_SECRET!, // ≥ 32 bytes
 *   urlFor: (token) => `https://app.example.com/signup?token=${token}`,
 *   send: ({ email, url }) => mailer.send(email, `You are invited: ${url}`),
 * });
 * const { invitation } = await invitations.create({ email: 'ada@example.com', role: 'editor', invitedBy: admin.id });
 * // later, at signup:
 * await invitations.consume({ token, email: 'ada@example.com' });
 * ```
 */
export function createInvitationService(options: InvitationServiceOptions): InvitationService {
  const { store } = options;
  const invitations = invitationStoreOf(store);
  const secrets = (Array.isArray(options.secret) ? options.secret : [options.secret]).map(secretBytes);
  if (secrets.length === 0) throw new ConfigurationError('createInvitationService needs a secret');
  if (secrets.some((s) => s.length < 32)) {
    throw new ConfigurationError('invitation secrets must be at least 32 bytes');
  }
  const ttlMs = positive(options.ttlMs, 7 * DAY, 'ttlMs');
  const now = options.now ?? (() => new Date());
  const { urlFor, send } = options;

  const hashes = (token: string) =>
    secrets.map((secret) => createHmac('sha256', secret).update(token, 'utf8').digest('base64url'));

  /** Find the invitation of a token and check it at `at`; the reasons are checked from most to least final. */
  async function check(token: unknown, email: string | undefined, at: Date): Promise<Invitation> {
    // A token that cannot be ours is refused before touching the store.
    if (typeof token !== 'string' || !TOKEN.test(token))
      throw new InvalidInvitationError('invitation_invalid');
    const invitation = await invitations.findInvitation(hashes(token));
    if (invitation === null) throw new InvalidInvitationError('invitation_invalid');
    if (invitation.revokedAt !== null) throw new InvalidInvitationError('invitation_revoked');
    if (invitation.consumedAt !== null) throw new InvalidInvitationError('invitation_consumed');
    if (invitation.expiresAt.getTime() <= at.getTime())
      throw new InvalidInvitationError('invitation_expired');
    if (email !== undefined && !safeEqual(email, invitation.email)) {
      throw new InvalidInvitationError('invitation_email_mismatch');
    }
    return invitation;
  }

  async function create(input: CreateInvitationInput): Promise<CreatedInvitation> {
    if (typeof input !== 'object' || input === null)
      throw new InvalidRequestError('invitation must be an object');
    const email = normaliseEmail(input.email);
    const role = checkRole(input.role ?? 'user');
    const invitedBy = checkInvitedBy(input.invitedBy);
    const lifetime = input.expiresInMs ?? ttlMs;
    if (!Number.isFinite(lifetime) || lifetime <= 0)
      throw new InvalidRequestError('expiresInMs must be a positive number');
    const token = randomBytes(32).toString('base64url');
    const [tokenHash] = hashes(token) as [string];
    const invitation = await invitations.createInvitation({
      id: randomUUID(),
      tokenHash,
      email,
      role,
      invitedBy,
      expiresAt: new Date(now().getTime() + lifetime),
    });
    invitationCreated(invitations, email);
    const url = urlFor?.(token);
    if (send !== undefined) {
      try {
        await send({ email, url, invitation });
      } catch (err) {
        // Nobody but the caller could learn the token now; an undelivered invitation is deleted so a
        // retry starts clean instead of leaving a live, unreachable one behind.
        await invitations.revokeInvitation(invitation.id, { soft: false }).catch(() => undefined);
        throw err;
      }
    }
    return { invitation, token, url };
  }

  async function createMany(
    list: readonly CreateInvitationInput[],
    opts: CreateManyOptions = {},
  ): Promise<CreateManyResult[]> {
    const report = (index: number) => opts.onResult?.(results[index] as CreateManyResult, index);
    if (!Array.isArray(list)) throw new InvalidRequestError('createMany needs an array');
    const concurrency = Math.floor(positive(opts.concurrency, 4, 'concurrency')) || 1;
    const bucket = createTokenBucket({ perSecond: positive(opts.perSecond, 10, 'perSecond') });
    const results: CreateManyResult[] = new Array(list.length);
    const firstByEmail = new Map<string, number>();
    const work: number[] = [];
    list.forEach((item, index) => {
      let email: string;
      try {
        email = normaliseEmail(item?.email);
      } catch (error) {
        results[index] = { ok: false, email: String(item?.email ?? ''), error };
        report(index);
        return;
      }
      if (firstByEmail.has(email)) return;
      firstByEmail.set(email, index);
      work.push(index);
    });

    let next = 0;
    const worker = async () => {
      while (next < work.length) {
        const index = work[next++] as number;
        const item = list[index] as CreateInvitationInput;
        const email = normaliseEmail(item.email);
        await bucket.take();
        try {
          results[index] = { ok: true, email, duplicate: false, ...(await create(item)) };
        } catch (error) {
          results[index] = { ok: false, email, error };
        }
        report(index);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, worker));

    list.forEach((item, index) => {
      if (results[index] !== undefined) return;
      const first = results[firstByEmail.get(normaliseEmail(item.email)) as number] as CreateManyResult;
      results[index] = first.ok ? { ...first, duplicate: true } : first;
      report(index);
    });
    return results;
  }

  async function consume(input: { token: string; email: string }): Promise<Invitation> {
    const email = normaliseEmail(input?.email);
    const at = now();
    const invitation = await check(input.token, email, at);
    const consumed = await invitations.consumeInvitation(invitation.id, at);
    if (consumed !== null) return consumed;
    // Lost a race (or it expired/was revoked in between): report the state that beat us.
    await check(input.token, email, now());
    throw new InvalidInvitationError('invitation_consumed');
  }

  return {
    create,
    createMany,
    async peek(input) {
      const { email, role, expiresAt } = await check(input?.token, undefined, now());
      return { email, role, expiresAt };
    },
    async find(input) {
      const token = input?.token;
      if (typeof token !== 'string' || !TOKEN.test(token)) return null;
      return invitations.findInvitation(hashes(token));
    },
    async validate(input) {
      return check(input?.token, normaliseEmail(input?.email), now());
    },
    consume,
    async revoke(id, opts = {}) {
      if (typeof id !== 'string' || id.length === 0) throw new InvalidRequestError('id must be a string');
      return invitations.revokeInvitation(id, { soft: opts.soft ?? true });
    },
    async purgeExpired({ olderThanMs }) {
      if (!Number.isFinite(olderThanMs) || olderThanMs < 0) {
        throw new InvalidRequestError('olderThanMs must be a number ≥ 0');
      }
      return invitations.purgeInvitations(new Date(now().getTime() - olderThanMs));
    },
    async list(filter = {}) {
      if (filter.status !== undefined && !INVITATION_STATUSES.includes(filter.status)) {
        throw new InvalidRequestError(`status must be one of ${INVITATION_STATUSES.join(', ')}`);
      }
      return invitations.listInvitations(
        filter.status === undefined ? { now: now() } : { status: filter.status, now: now() },
      );
    },
    async consumePendingForEmail(rawEmail) {
      const email = normaliseEmail(rawEmail);
      // A racer may consume the one we found; a replacement may appear meanwhile: look again, a few times.
      for (let attempt = 0; attempt < 3; attempt++) {
        const at = now();
        const pending = await invitations.findPendingInvitationByEmail(email, at);
        if (pending === null) return null;
        const consumed = await invitations.consumeInvitation(pending.id, at);
        if (consumed !== null) return consumed;
      }
      return null;
    },
    unconsume: async ({ id, consumedAt }) =>
      consumedAt !== null && (await invitations.unconsumeInvitation(id, consumedAt)),
    store,
  };
}
