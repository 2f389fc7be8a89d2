import { InvalidRequestError } from '../errors';
import { normaliseEmail } from '../identity';
import { createTokenBucket, positive } from '../internal';
import type { CreatedInvitation, CreateInvitationInput, CreateManyOptions, CreateManyResult } from './types';

/**
 * `InvitationService.createMany`: `create` each invitee, `concurrency` at a time and at most `perSecond`
 * starts per second (or as a shared `throttle` allows); one failing item never aborts the batch. An email seen before is not invited twice: it
 * shares the first one's result (`duplicate: true`). Results come back in input order.
 *
 * @example
 * ```ts
 * const results = await createMany(service.create, [{ email: 'ada@example.com', invitedBy }], { perSecond: 5 });
 * ```
 */
export async function createMany(
  create: (input: CreateInvitationInput) => Promise<CreatedInvitation>,
  list: readonly CreateInvitationInput[],
  opts: CreateManyOptions = {},
): Promise<CreateManyResult[]> {
  const report = (index: number) => opts.onResult?.(results[index] as CreateManyResult, index);
  if (!Array.isArray(list)) throw new InvalidRequestError('createMany needs an array');
  const concurrency = Math.floor(positive(opts.concurrency, 4, 'concurrency')) || 1;
  const throttle =
    opts.throttle ?? createTokenBucket({ perSecond: positive(opts.perSecond, 10, 'perSecond') }).take;
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
      await throttle();
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
