import { randomUUID } from 'node:crypto';
import { isJitProvisionError, NotFoundError, RateLimitedError } from '../errors';
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
  /** The error code (`failed`); `delivery_failed` when the app's `send` threw. */
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

/** Options of {@link createBulkJobs}. */
export interface BulkJobsOptions {
  invitations: InvitationService;
  /** Invitations delivered per second at most (default 10), so the mail provider is not flooded. */
  perSecond?: number;
  /** Invitations created at once (default 4). */
  concurrency?: number;
  /** Jobs kept in memory (default 100): the oldest finished one is forgotten first. */
  maxJobs?: number;
}

/** In-process registry of bulk invitation jobs; see {@link createBulkJobs}. */
export interface BulkJobs {
  /** Plan the job (skips decided now), start delivering in the background, return its id. */
  start(items: readonly { email: string; role: string }[], invitedBy: string): Promise<string>;
  /** The job's progress; `NotFoundError` for an unknown (or forgotten) id. */
  get(id: string): BulkJobProgress;
}

const errorCode = (err: unknown) => (isJitProvisionError(err) ? err.publicCode : 'delivery_failed');

/**
 * Bulk invitation jobs, kept in this process's memory: `maxJobs` at most, the oldest finished one forgotten
 * first; while all are running a new one is refused (429). A job lives and is polled on the instance that
 * started it; behind a load balancer, route `/invitations/bulk*` to one instance or use sticky sessions.
 *
 * Each email is planned before the job starts: a repeat within the list, or an email that already has a
 * pending invitation, is `skipped` rather than invited twice. The rest go through `invitations.createMany`,
 * throttled to `perSecond`.
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

  function makeRoom(): void {
    if (jobs.size < maxJobs) return;
    // Map order is creation order: the first finished job is the oldest one.
    for (const [id, job] of jobs) {
      if (job.finishedAt !== null) {
        jobs.delete(id);
        return;
      }
    }
    throw new RateLimitedError(60, `${maxJobs} bulk invitation jobs are running; try again later`);
  }

  async function start(items: readonly { email: string; role: string }[], invitedBy: string) {
    makeRoom();
    const pending = new Set((await invitations.list({ status: 'pending' })).map((i) => i.email));
    const seen = new Set<string>();
    const results: BulkInvitationResult[] = [];
    const work: CreateInvitationInput[] = [];
    const slots: number[] = [];
    for (const { email, role } of items) {
      const reason = seen.has(email) ? 'duplicate' : pending.has(email) ? 'pending' : undefined;
      seen.add(email);
      if (reason !== undefined) {
        results.push({ email, status: 'skipped', reason });
        continue;
      }
      slots.push(results.length);
      results.push({ email, status: 'queued' });
      work.push({ email, role, invitedBy });
    }
    const skipped = results.length - work.length;
    const job: BulkJobProgress = {
      id: randomUUID(),
      total: results.length,
      done: skipped,
      sent: 0,
      skipped,
      failed: 0,
      createdAt: new Date(),
      finishedAt: null,
      results,
    };
    jobs.set(job.id, job);

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
        ...(options.perSecond === undefined ? {} : { perSecond: options.perSecond }),
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
