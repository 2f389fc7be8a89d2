import { type InvitationStatus, invitationStatus } from '@jit-provision/core';
import { type App, emit, examples, type Register } from '../app';
import { parseDuration } from '../durations';
import { CliError } from '../errors';
import { table } from '../output';

/** `invitations list|revoke|purge`. */
export const registerInvitations: Register = (program, app: App) => {
  const invitations = program.command('invitations').description('list, revoke and purge invitations');

  invitations
    .command('list')
    .description('list invitations (never their tokens)')
    .option('--status <status>', 'pending, consumed, expired or revoked')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('jit-provision invitations list --status pending'))
    .action(async (options: { status?: InvitationStatus; json?: boolean }) => {
      const service = await app.context().invitations(false);
      const list = await service.list(options.status === undefined ? {} : { status: options.status });
      const now = Date.now();
      const rows = list.map((i) => ({ ...i, status: invitationStatus(i, now) }));
      emit(app, options.json, { invitations: rows }, () =>
        table(rows, ['id', 'email', 'role', 'status', 'invitedBy', 'createdAt', 'expiresAt']),
      );
    });

  invitations
    .command('revoke <id>')
    .description('revoke an invitation: deleted, or with --soft kept as revoked for audit')
    .option('--soft', 'keep it, marked revoked')
    .addHelpText('after', examples('jit-provision invitations revoke 3f0c9a1e-… --soft'))
    .action(async (id: string, options: { soft?: boolean }) => {
      const service = await app.context().invitations(false);
      if (!(await service.revoke(id, { soft: options.soft === true }))) {
        throw new CliError('invitation_not_found', `no invitation has the id ${id}`, 1);
      }
      app.io.stdout(`${options.soft === true ? 'revoked' : 'deleted'} invitation ${id}\n`);
    });

  invitations
    .command('purge')
    .description(
      'delete invitations that expired, were used or were revoked long enough ago; quiet on success (cron)',
    )
    .option('--older-than <duration>', 'how long ago, e.g. 30d (0d: every one that has ended)', '30d')
    .option('--json', 'print { purged } as JSON')
    .option('--verbose', 'say how many were purged')
    .addHelpText(
      'after',
      examples(
        'jit-provision invitations purge --older-than 30d',
        '15 3 * * * jit-provision invitations purge   # crontab',
      ),
    )
    .action(async (options: { olderThan: string; json?: boolean; verbose?: boolean }) => {
      // 0 is "every one that has ended, now" (e.g. right after revoking a batch).
      const olderThanMs = parseDuration(options.olderThan, '--older-than', { zero: true });
      const service = await app.context().invitations(false);
      const purged = await service.purgeExpired({ olderThanMs });
      if (options.json === true) emit(app, true, { purged, olderThanMs }, () => '');
      else if (options.verbose === true)
        app.io.stdout(`purged ${purged} invitation(s) older than ${options.olderThan}\n`);
    });
};
