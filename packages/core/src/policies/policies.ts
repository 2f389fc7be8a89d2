import { domainToASCII } from 'node:url';
import { ConfigurationError, PolicyRejectedError } from '../errors';
import { hasControlCharacters, normaliseEmail, parseEmail } from '../identity';
import { Lru, positive, sleep } from '../internal';
import type { InvitationService } from '../invitations';
import { onInvitationCreated } from '../invitations';
import type { Policy, PolicyContext } from '../types';

/** Options of {@link emailDomainAllowlist}. */
export interface EmailDomainAllowlistOptions {
  /** Refuse identities whose provider did not verify the email (default true): anyone can type any address. */
  requireVerified?: boolean;
}

const LABEL = /^[^\s.@/\\*?#:]+$/;

function parsePattern(raw: unknown): { base: string; subdomains: boolean } {
  if (typeof raw !== 'string' || hasControlCharacters(raw)) {
    throw new ConfigurationError('emailDomainAllowlist patterns must be strings');
  }
  let pattern = raw.trim().toLowerCase().replace(/\.$/, '');
  const subdomains = pattern.startsWith('*.');
  if (subdomains) pattern = pattern.slice(2);
  // Compared with addresses' domains, which parseEmail hands over as ASCII/punycode.
  pattern = domainToASCII(pattern);
  const labels = pattern.split('.');
  // '*.com' would admit a whole TLD: almost certainly a mistake, so it is refused like any malformed pattern.
  if (pattern.length === 0 || !labels.every((l) => LABEL.test(l)) || (subdomains && labels.length < 2)) {
    throw new ConfigurationError(`invalid email domain pattern: ${JSON.stringify(raw)}`);
  }
  return { base: pattern, subdomains };
}

/**
 * Only provision first logins whose (verified) email is in one of `domains`: `'corp.com'` matches exactly,
 * `'*.corp.com'` matches any subdomain (not `corp.com` itself; list both for both). Addresses are read by the
 * one email parser (`parseEmail`): a single `@`, no spaces, commas, parentheses, `%` or encoded words, and
 * nothing that folds to ASCII (U+212A); anything else is refused. Domains (address and pattern) are compared
 * after IDNA processing, as ASCII/punycode, so `bücher.com` and `xn--bcher-kva.com` are the same pattern. Refuses with `email_not_verified` or `email_domain_not_allowed`.
 *
 * @example
 * ```ts
 * createProvisioner({ store, issuers, policies: [emailDomainAllowlist(['corp.com', '*.corp.com'])] });
 * ```
 */
export function emailDomainAllowlist(
  domains: readonly string[],
  options: EmailDomainAllowlistOptions = {},
): Policy {
  if (!Array.isArray(domains) || domains.length === 0) {
    throw new ConfigurationError('emailDomainAllowlist needs at least one domain');
  }
  const patterns = domains.map(parsePattern);
  const requireVerified = options.requireVerified ?? true;
  const allowed = (domain: string) =>
    domain.split('.').every((l) => l.length > 0) &&
    patterns.some(({ base, subdomains }) => (subdomains ? domain.endsWith(`.${base}`) : domain === base));

  return {
    name: 'emailDomainAllowlist',
    beforeCreate({ identity }) {
      if (requireVerified && identity.emailVerified !== true) {
        throw new PolicyRejectedError('email_not_verified', 'A verified email address is required');
      }
      let domain: string;
      try {
        domain = parseEmail(identity.email).domain;
      } catch {
        domain = ''; // not an address the one parser accepts: no domain to allow
      }
      if (!allowed(domain)) {
        throw new PolicyRejectedError('email_domain_not_allowed', 'This email domain may not sign up');
      }
    },
  };
}

/** Options of {@link invitationRequired}. */
export interface InvitationRequiredOptions {
  /**
   * When the invitation was just consumed by a concurrent first login of the same person (another
   * process), how long to wait for that login's user row before refusing; default 500 ms.
   */
  waitMs?: number;
  /**
   * How long an `invitation_required` refusal is remembered per email, so a refused person retrying
   * costs no invitation queries and no `waitMs` wait; default 30,000 ms (0 turns it off). Creating an
   * invitation for that email through any invitation service of the same store in this process clears it
   * at once; one created by another process is seen within this time.
   */
  refusalCacheMs?: number;
  /** Most refusals remembered (least recently used dropped first); default 10,000. */
  refusalCacheEntries?: number;
}

/**
 * Closed registration: a first login is provisioned only when a pending invitation exists for the
 * identity's verified email. The invitation is consumed on the way, the new user's role comes from it
 * (never from the request), and it is put back when creating the user fails or another concurrent
 * login created the user first. Refuses with `email_not_verified` or `invitation_required`; an
 * `invitation_required` refusal is remembered per email for `refusalCacheMs` (30 s; cleared in this process
 * when an invitation for that email is created), so a refused person hammering the API costs nothing.
 *
 * @example
 * ```ts
 * const invitations = createInvitationService({ store, secret });
 * createProvisioner({ store, issuers, policies: [invitationRequired(invitations)] });
 * ```
 */
export function invitationRequired(
  invitations: InvitationService,
  options: InvitationRequiredOptions = {},
): Policy {
  if (typeof invitations?.consumePendingForEmail !== 'function') {
    throw new ConfigurationError('invitationRequired needs an invitation service');
  }
  const waitMs = options.waitMs ?? 500;
  if (!Number.isFinite(waitMs) || waitMs < 0) throw new ConfigurationError('waitMs must be a number ≥ 0');
  const refusalMs = options.refusalCacheMs ?? 30_000;
  if (!Number.isFinite(refusalMs) || refusalMs < 0) {
    throw new ConfigurationError('refusalCacheMs must be a number ≥ 0');
  }
  // Refusals by normalised email: each one cost the invitation queries and up to `waitMs` of polling.
  const refused = new Lru<string, true>(positive(options.refusalCacheEntries, 10_000, 'refusalCacheEntries'));
  const { store } = invitations;
  if (store?.invitations !== undefined)
    onInvitationCreated(store.invitations, (email) => refused.delete(email));
  const refuse = (email: string): never => {
    if (refusalMs > 0) refused.set(email, true, Date.now() + refusalMs);
    throw new PolicyRejectedError('invitation_required', 'An invitation is required to sign up');
  };

  /** Did a concurrent login of this identity create the user meanwhile? Polls with backoff until `waitMs`. */
  async function createdByRacer(findUser: PolicyContext['findUser']): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    let delay = 20;
    for (;;) {
      if ((await findUser()) !== null) return true;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await sleep(Math.min(delay, remaining));
      delay = Math.min(delay * 2, 200);
    }
  }

  return {
    name: 'invitationRequired',
    async beforeCreate({ identity, findUser }) {
      if (identity.emailVerified !== true || typeof identity.email !== 'string') {
        throw new PolicyRejectedError('email_not_verified', 'A verified email address is required');
      }
      let email: string;
      try {
        email = normaliseEmail(identity.email);
      } catch {
        throw new PolicyRejectedError('invitation_required', 'An invitation is required to sign up');
      }
      if (refused.get(email) !== undefined) {
        throw new PolicyRejectedError('invitation_required', 'An invitation is required to sign up');
      }
      const invitation = await invitations.consumePendingForEmail(email);
      if (invitation === null) {
        // The user row will come from the racer's creation: upsert then answers it with created false.
        if (await createdByRacer(findUser)) return {};
        return refuse(email);
      }
      return {
        role: invitation.role,
        async settle(outcome) {
          // Failed, or someone else created this user: the invitation was not what let them in.
          if ('error' in outcome || !outcome.created) await invitations.unconsume(invitation);
        },
      };
    },
  };
}
