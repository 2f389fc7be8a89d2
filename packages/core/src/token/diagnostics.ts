import {
  type ClaimMismatch,
  type InvalidTokenReason,
  isJitProvisionError,
  type StoreUnavailableReason,
} from '../errors';
import { nearMissHint } from '../internal';
import type { Logger } from '../types';

/** How often one distinct cause is logged at most: once per this interval, however many requests hit it. */
export const DIAGNOSTIC_INTERVAL_MS = 60_000;
/** Distinct causes remembered; keys are bounded by configuration, this only guards against surprises. */
const MAX_CAUSES = 256;

/** The command that creates store-postgres's tables; named in the hint for a missing relation. */
export const MIGRATE_COMMAND = 'jit-provision-migrate';

interface Diagnosis {
  /** One per distinct cause: never holds an attacker-chosen value, so a flood of tokens cannot multiply lines. */
  key: string;
  level: 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

function mismatchDiagnosis(mismatch: ClaimMismatch, reason: unknown, issuer: string | undefined): Diagnosis {
  const what = mismatch.claim === 'iss' ? 'issuer' : 'audience';
  const near = mismatch.received
    .map((received) => nearMissHint(received, mismatch.expected, what))
    .find((found) => found !== undefined);
  const refused =
    mismatch.claim === 'iss'
      ? 'token refused: its issuer (iss) is not a trusted one'
      : 'token refused: its audience (aud) is not the one configured for its issuer';
  const hint = near?.hint;
  return {
    // Never keyed by a received value (the attacker's choice): untrusted issuers share one key unless they
    // nearly match a trusted one, audiences are keyed by their (trusted) issuer.
    key: `${mismatch.claim}:${mismatch.claim === 'aud' ? (issuer ?? '?') : ''}:${near?.configured ?? ''}`,
    level: 'warn',
    message: hint === undefined ? refused : `${refused}; ${hint}`,
    fields: {
      reason,
      ...(issuer === undefined ? {} : { issuer }),
      claim: mismatch.claim,
      expected: mismatch.expected,
      received: mismatch.received,
      ...(hint === undefined ? {} : { hint }),
    },
  };
}

/** Token refusals that are the operator's to fix, not the client's; the others are not logged. */
const OPERATOR_REASONS: Partial<Record<InvalidTokenReason, string>> = {
  jwks_unavailable: "token refused: the issuer's signing keys could not be fetched",
  algorithm_not_allowed: 'token refused: its algorithm is not allowed for its issuer',
  issued_in_future:
    "token refused: issued in the future (iat later than now plus the clock tolerance); the issuer's clock runs ahead of this server's: sync both (NTP)",
};

const STORE_HINTS: Record<StoreUnavailableReason, string> = {
  schema_not_migrated: `the user database failed: schema not migrated: run \`${MIGRATE_COMMAND}\` (or call migrate()) against this database and schema`,
  unreachable: 'the user database is unreachable',
  failed: 'the user database failed',
  provider_unavailable:
    "an issuer's introspection or userinfo endpoint failed or timed out (or the introspection call budget is spent): those requests get 503 until it answers",
};

/** The driver's code and message of a store error's cause, never its detail (which may hold row values). */
function causeFields(cause: unknown): Record<string, unknown> {
  if (typeof cause !== 'object' || cause === null) return {};
  const { code, message } = cause as { code?: unknown; message?: unknown };
  return {
    ...(typeof code === 'string' ? { causeCode: code } : {}),
    ...(typeof message === 'string' ? { cause: message.slice(0, 300) } : {}),
  };
}

/** What to log for `err`, or undefined for errors that are the client's business alone (expired, bad signature…). */
function diagnose(err: unknown, issuer: string | undefined): Diagnosis | undefined {
  if (isJitProvisionError(err, 'invalid_token')) {
    const { reason, mismatch, cause } = err;
    if (mismatch !== undefined) return mismatchDiagnosis(mismatch, reason, issuer);
    const message = OPERATOR_REASONS[reason];
    if (message !== undefined) {
      return {
        key: `${reason}:${issuer ?? '?'}`,
        level: 'warn',
        message,
        fields: {
          reason,
          ...(issuer === undefined ? {} : { issuer }),
          ...(cause instanceof Error ? { cause: cause.message.slice(0, 300) } : {}),
        },
      };
    }
    return undefined;
  }
  if (isJitProvisionError(err, 'provisioning_unavailable')) {
    const { reason, cause } = err;
    const fields = causeFields(cause);
    return {
      key: `store:${reason}:${String(fields['causeCode'] ?? '')}`,
      level: 'error',
      message: STORE_HINTS[reason] ?? STORE_HINTS.failed,
      fields: { code: err.code, reason, ...fields },
    };
  }
  return undefined;
}

/** Reports why requests fail, server-side, once per distinct cause per interval. */
export interface Diagnostics {
  /**
   * Log the cause of `err` if it is one worth an operator's attention and not logged within the interval.
   * `issuer`: the trusted issuer the request's token named; `continuing`: an outage the request continues
   * through without a user (`onProvisioningError: 'continue'`).
   */
  note(err: unknown, context?: { issuer?: string | undefined; continuing?: boolean }): void;
}

/**
 * Diagnostics on `logger`: a wrong audience, an issuer that differs by a trailing slash or scheme, keys that
 * cannot be fetched, an unmigrated schema. A bare 401 or 503 tells the client nothing (by design); this
 * tells the operator, once per distinct cause per `intervalMs`, never with a token or claims beyond iss/aud.
 *
 * @example
 * ```ts
 * const diagnostics = createDiagnostics(logger);
 * try { await verify(token); } catch (err) { diagnostics.note(err); throw err; }
 * ```
 */
export function createDiagnostics(
  logger: Logger,
  options: { intervalMs?: number; now?: () => number } = {},
): Diagnostics {
  const intervalMs = options.intervalMs ?? DIAGNOSTIC_INTERVAL_MS;
  const now = options.now ?? Date.now;
  const lastLogged = new Map<string, number>();
  return {
    note(err, context = {}) {
      const found = diagnose(err, context.issuer);
      if (found === undefined) return;
      if (context.continuing) {
        found.key += ':continuing';
        found.message += '; continuing without a user';
      }
      const at = now();
      const last = lastLogged.get(found.key);
      if (last !== undefined && at - last < intervalMs) return;
      lastLogged.delete(found.key);
      if (lastLogged.size >= MAX_CAUSES) {
        const oldest = lastLogged.keys().next().value;
        if (oldest !== undefined) lastLogged.delete(oldest);
      }
      lastLogged.set(found.key, at);
      logger[found.level](found.fields, found.message);
    },
  };
}
