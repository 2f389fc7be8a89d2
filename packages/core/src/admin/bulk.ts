import { randomUUID } from 'node:crypto';
import { isJitProvisionError, NotFoundError, RateLimitedError } from '../errors';
import { normaliseEmail } from '../identity';
import { createTokenBucket } from '../internal';
import type { CreateInvitationInput, CreateManyResult, InvitationService } from '../invitations';

/** One email of a bulk invitation, as `GET /invitations/bulk/:job` reports it. */
export interface BulkInvitationResult {
  email: string;
  /** `queued` until its turn; `skipped` for a repeated email or one with a pending invitation. */
  status: 'queued' | 'sent' | 'skipped' | 'failed';
  /** The created invitation (`sent`). */
  invitationId?: string;
  /** Why it was skipped: repeated in this list, or already invited and still pending. */
  reason?: 'duplicate' | 'pending';
  /**
   * The error code (`failed`): `invalid_request` for an entry that is no address or carries no valid role,
   * `delivery_failed` when the app's `send` threw.
   */
  error?: string;
}

/** Progress of a bulk invitation job; `done` counts finished entries (`sent + skipped + failed`). */
export interface BulkJobProgress {
  id: string;
  total: number;
  done: number;
  sent: number;
  skipped: number;
  failed: number;
  createdAt: Date;
  finishedAt: Date | null;
  results: BulkInvitationResult[];
}

/** One entry of a bulk body as the admin sent it; a bad address or role fails as that entry's result. */
export interface BulkEntry {
  email: unknown;
  role: unknown;
}

/** Options of {@link createBulkJobs}. */
export interface BulkJobsOptions {
  invitations: InvitationService;
  /**
   * Invitations delivered per second at most (default 10), by all jobs together: one token bucket serves every
   * job, so the mail provider sees this rate however many jobs run.
   */
  perSecond?: number;
  /** Invitations created at once, per job (default 4). */
  concurrency?: number;
  /** Jobs kept in memory (default 100): the oldest finished one is forgotten first. */
  maxJobs?: number;
}

/** In-process registry of bulk invitation jobs; see {@link createBulkJobs}. */
export interface BulkJobs {
  /** Plan the job (skips decided now), start delivering in the background, return its id. */
  start(items: readonly BulkEntry[], invitedBy: string): Promise<string>;
  /** The job's progress; `NotFoundError` for an unknown (or forgotten) id. */
  get(id: string): BulkJobProgress;
}

const errorCode = (err: unknown) => (isJitProvisionError(err) ? err.publicCode : 'delivery_failed');

/** The normalised address of an entry, or undefined when it has none (createMany then reports why). */
function validEmail(value: unknown): string | undefined {
  try {
    return normaliseEmail(value);
  } catch {
    return undefined;
  }
}

/**
 * Plan the entries: repeats and addresses with a pending invitation are `skipped`; everything else is work
 * for `createMany`, bad entries included, so they fail with its error code exactly as in the CLI.
 */
function plan(
  items: readonly BulkEntry[],
  pending: ReadonlySet<string>,
  invitedBy: string,
): { results: BulkInvitationResult[]; work: CreateInvitationInput[]; slots: number[] } {
  const seen = new Set<string>();
  const results: BulkInvitationResult[] = [];
  const work: CreateInvitationInput[] = [];
  const slots: number[] = [];
  for (const { email: raw, role } of items) {
    const email = validEmail(raw);
    const reason =
      email === undefined
        ? undefined
        : seen.has(email)
          ? 'duplicate'
          : pending.has(email)
            ? 'pending'
            : undefined;
    if (email !== undefined) seen.add(email);
    const shown = email ?? (typeof raw === 'string' ? raw : '');
    if (reason !== undefined) {
      results.push({ email: shown, status: 'skipped', reason });
      continue;
    }
    slots.push(results.length);
    results.push({ email: shown, status: 'queued' });
    work.push({ email: raw as string, role: role as string, invitedBy });
  }
  return { results, work, slots };
}

/**
 * Bulk invitation jobs, kept in this process's memory: `maxJobs` at most, the oldest finished one forgotten
 * first; while all are running a new one is refused (429). The slot is taken before anything is awaited, so
 * racing starts cannot pass the bound together. A job lives and is polled on the instance that started it;
 * behind a load balancer, route `/invitations/bulk*` to one instance or use sticky sessions.
 *
 * Each email is planned before the job starts: a repeat within the list, or an email that already has a
 * pending invitation, is `skipped` rather than invited twice. The rest go through `invitations.createMany`,
 * all jobs sharing one token bucket of `perSecond`; an entry `createMany` refuses (a bad address or role)
 * is `failed` with its error code (`invalid_request`) while the others are sent.
 *
 * @example
 * ```ts
 * const jobs = createBulkJobs({ invitations, perSecond: 5 });
 * const id = await jobs.start([{ email: 'ada@example.com', role: 'user' }], admin.id);
 * jobs.get(id); // { total: 1, done: 0, sent: 0, ... }
 * ```
 */
export function createBulkJobs(options: BulkJobsOptions): BulkJobs {
  const { invitations } = options;
  const maxJobs = options.maxJobs ?? 100;
  const jobs = new Map<string, BulkJobProgress>();
  const throttle = createTokenBucket({ perSecond: options.perSecond ?? 10 }).take;

  function reserve(): BulkJobProgress {
    if (jobs.size >= maxJobs) {
      // Map order is creation order: the first finished job is the oldest one.
      const oldest = [...jobs.values()].find((job) => job.finishedAt !== null);
      if (oldest === undefined)
        throw new RateLimitedError(60, `${maxJobs} bulk invitation jobs are running; try again later`);
      jobs.delete(oldest.id);
    }
    const job: BulkJobProgress = {
      id: randomUUID(),
      total: 0,
      done: 0,
      sent: 0,
      skipped: 0,
      failed: 0,
      createdAt: new Date(),
      finishedAt: null,
      results: [],
    };
    jobs.set(job.id, job);
    return job;
  }

  async function start(items: readonly BulkEntry[], invitedBy: string) {
    // Registered (unfinished) before the first await: concurrent starts see each other.
    const job = reserve();
    let pending: Set<string>;
    try {
      pending = new Set((await invitations.list({ status: 'pending' })).map((i) => i.email));
    } catch (err) {
      jobs.delete(job.id);
      throw err;
    }
    const { results, work, slots } = plan(items, pending, invitedBy);
    const skipped = results.length - work.length;
    Object.assign(job, { total: results.length, done: skipped, skipped, results });

    const record = (result: CreateManyResult, index: number) => {
      const slot = results[slots[index] as number] as BulkInvitationResult;
      if (slot.status !== 'queued') return;
      if (result.ok) {
        slot.status = 'sent';
        slot.invitationId = result.invitation.id;
        job.sent++;
      } else {
        slot.status = 'failed';
        slot.error = errorCode(result.error);
        job.failed++;
      }
      job.done++;
    };
    const finish = () => {
      job.finishedAt = new Date();
    };
    invitations
      .createMany(work, {
        onResult: record,
        throttle,
        ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      })
      .then(finish, (err: unknown) => {
        // Only a setup failure gets here (createMany reports each item's own failure as a result).
        for (let index = 0; index < work.length; index++) record({ ok: false, email: '', error: err }, index);
        finish();
      });
    if (work.length === 0) finish();
    return job.id;
  }

  return {
    start,
    get(id) {
      const job = jobs.get(id);
      if (job === undefined) throw new NotFoundError('No such bulk invitation job');
      return job;
    },
  };
}
