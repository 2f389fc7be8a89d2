import { createHash, randomBytes } from 'node:crypto';
import type { ScimStore } from '@jit-provision/core';
import { type App, emit, examples, type Register } from '../app';
import { configError } from '../errors';
import { record } from '../output';

/**
 * A new SCIM bearer token (32 random bytes, base64url) and the hash `scimServer({ tokens })` accepts in its
 * place: `sha256:` and the lowercase hex SHA-256 of the token's UTF-8 bytes. The app keeps only the hash;
 * the token goes to the identity provider (Entra's "Secret Token", Okta's "Authorization" header).
 */
export function newScimToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}` };
}

async function scimOf(app: App): Promise<ScimStore> {
  const store = await app.context().store();
  if (store.scim === undefined)
    throw configError(
      'this store has no SCIM part (store.scim): use store-postgres, store-memory or a store with one',
    );
  return store.scim;
}

/** `scim token create|status`: tokens for the identity provider, and what SCIM has provisioned. */
export const registerScim: Register = (program, app) => {
  const scim = program
    .command('scim')
    .description('SCIM provisioning (@jit-provision/scim): bearer tokens and what was provisioned');

  scim
    .command('token')
    .description('SCIM bearer tokens')
    .command('create')
    .description(
      'print a new bearer token (once: it is not kept anywhere) and the sha256: hash to configure in scimServer({ tokens })',
    )
    .option('--json', 'print JSON: { token, hash }')
    .addHelpText(
      'after',
      examples('jit-provision scim token create', 'jit-provision scim token create --json'),
    )
    .action((options: { json?: boolean }) => {
      const created = newScimToken();
      emit(app, options.json, created, () =>
        record({
          token: created.token,
          hash: created.hash,
          'give the token to': 'the identity provider (Entra: Secret Token; Okta: Authorization header)',
          'configure the hash': 'scimServer({ tokens: [hash] }) (e.g. from an environment variable)',
        }),
      );
    });

  scim
    .command('status')
    .description('SCIM users and groups provisioned, and the last SCIM write')
    .option('--issuer <url>', 'only this issuer’s (default: every issuer)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      examples(
        'jit-provision scim status',
        'jit-provision scim status --issuer https://login.microsoftonline.com/…/v2.0 --json',
      ),
    )
    .action(async (options: { issuer?: string; json?: boolean }) => {
      const status = await (await scimOf(app)).status(options.issuer);
      const document = { ...(options.issuer === undefined ? {} : { issuer: options.issuer }), ...status };
      emit(app, options.json, document, () =>
        record({
          ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
          users: status.users,
          groups: status.groups,
          'last SCIM write': status.lastWrite,
        }),
      );
    });
};
