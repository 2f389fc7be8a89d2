import type { OutboxStatus, OutboxStore } from '@jit-provision/core';
import { type App, emit, examples, type Register } from '../app';
import { parseCount } from '../durations';
import { CliError, configError, usageError } from '../errors';
import { table } from '../output';

async function outboxOf(app: App): Promise<OutboxStore> {
  const store = await app.context().store();
  if (store.outbox === undefined) throw configError('this store has no outbox');
  return store.outbox;
}

/** `outbox list|retry`: durable user events and their deliveries. */
export const registerOutbox: Register = (program, app) => {
  const outbox = program
    .command('outbox')
    .description('see and retry durable user events (hookDelivery: outbox)');

  outbox
    .command('list')
    .description('list outbox events, oldest first')
    .option('--status <status>', 'pending, done or failed')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('jit-provision outbox list --status failed'))
    .action(async (options: { status?: OutboxStatus; limit: string; json?: boolean }) => {
      if (options.status !== undefined && !['pending', 'done', 'failed'].includes(options.status)) {
        throw usageError('--status must be pending, done or failed');
      }
      const events = await (await outboxOf(app)).list({
        ...(options.status === undefined ? {} : { status: options.status }),
        limit: parseCount(options.limit, '--limit'),
      });
      emit(app, options.json, { events }, () =>
        table(events, [
          'id',
          'type',
          'userId',
          'status',
          'attempts',
          'lastError',
          'availableAt',
          'createdAt',
        ]),
      );
    });

  outbox
    .command('retry [id]')
    .description('deliver a failed (or done) event again, with a fresh round of attempts')
    .option('--all-failed', 'every failed event')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      examples('jit-provision outbox retry 8d1f…', 'jit-provision outbox retry --all-failed'),
    )
    .action(async (id: string | undefined, options: { allFailed?: boolean; json?: boolean }) => {
      if ((id === undefined) === (options.allFailed !== true))
        throw usageError('give an event <id> or --all-failed');
      const store = await outboxOf(app);
      const retry = store.retry?.bind(store);
      if (retry === undefined) throw configError('this store’s outbox cannot retry events (no outbox.retry)');
      const ids =
        id !== undefined ? [id] : (await store.list({ status: 'failed', limit: 100_000 })).map((e) => e.id);
      const retried: string[] = [];
      for (const eventId of ids) if (await retry(eventId)) retried.push(eventId);
      if (id !== undefined && retried.length === 0) {
        throw new CliError('outbox_event_not_found', `no outbox event has the id ${id}`, 1);
      }
      emit(app, options.json, { retried }, () => `retried ${retried.length} event(s)\n`);
    });
};
