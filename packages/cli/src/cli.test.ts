import { readFileSync, writeFileSync } from 'node:fs';
import { createInvitationService, createProvisioner } from '@jit-provision/core';
import { describe, expect, it } from 'vitest';
import { run } from './index';
import { cliSuite, DATABASE_URL, freshDatabase, ROOT, SECRET } from './test-support/harness';

const ISSUER = 'https://sso.example.com/realms/main';
const DAY = 86_400_000;

describe('--help (in-process)', () => {
  const help = async (args: string[]) => {
    let out = '';
    const code = await run([...args, '--help'], {
      env: {},
      cwd: ROOT,
      stdout: (t) => {
        out += t;
      },
      stderr: () => {},
      isTTY: false,
    });
    return { code, out };
  };
  it.each([
    [[]],
    [['migrate']],
    [['status']],
    [['users', 'list']],
    [['users', 'show']],
    [['users', 'disable']],
    [['users', 'enable']],
    [['users', 'delete']],
    [['users', 'revoke-sessions']],
    [['users', 'add']],
    [['users', 'set-role']],
    [['invite']],
    [['invitations', 'list']],
    [['invitations', 'revoke']],
    [['invitations', 'purge']],
    [['outbox', 'list']],
    [['outbox', 'retry']],
  ])('%j --help exits 0 and shows an example', async (args) => {
    const { code, out } = await help(args);
    expect(code).toBe(0);
    expect(out).toMatch(/Examples?:\n {2}\$ jit-provision|Examples?:\n {2}\$ DATABASE_URL=/);
  });

  it('an unknown command or option is a usage error: exit 2', async () => {
    const io = { env: {}, cwd: ROOT, stdout: () => {}, stderr: () => {}, isTTY: false };
    expect(await run(['frobnicate'], io)).toBe(2);
    expect(await run(['status', '--bogus'], io)).toBe(2);
  });
});

describe('the documented in-process run examples run as written', () => {
  const examples = (): [string, string][] => {
    const tsdoc = readFileSync(new URL('./program.ts', import.meta.url), 'utf8');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const runDoc = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*export async function run\(/.exec(tsdoc)?.[1] ?? '';
    const blocks = [
      ...[...runDoc.replace(/^\s*\* ?/gm, '').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => ['TSDoc', m[1]]),
      ...[...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => ['README', m[1]]),
    ] as [string, string][];
    return blocks.filter(([, code]) => /\brun\(/.test(code));
  };

  it('the TSDoc of run and the README have one', () => {
    expect(examples().map(([where]) => where)).toEqual(['TSDoc', 'README']);
  });

  it.each(examples())('%s', async (_where, code) => {
    const cli = await import('./index');
    const imported = [...code.matchAll(/import\s*\{([^}]*)\}\s*from\s*'@jit-provision\/cli'/g)].flatMap((m) =>
      (m[1] as string).split(',').map((name) => name.trim()),
    );
    expect(imported.every((name) => name in cli)).toBe(true);
    let stderr = '';
    // The example's own names, bound to the real `run` and to an io without the process's environment;
    // `process` is a stand-in so the example's exit code does not become the test runner's.
    const bindings: Record<string, unknown> = {
      ...cli,
      processIo: () => ({
        env: {},
        cwd: ROOT,
        stdout: () => {},
        stderr: (text: string) => {
          stderr += text;
        },
        isTTY: false,
      }),
      process: { exitCode: undefined },
    };
    const body = code.replace(/^import[^;]*;$/gm, '');
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
      ...args: string[]
    ) => (...values: unknown[]) => Promise<void>;
    const names = [...imported, 'process'];
    await new AsyncFunction(...names, body)(...names.map((name) => bindings[name]));
    // It ran: no environment, so the configuration error the CLI reports for that, and its exit code.
    expect((bindings['process'] as { exitCode?: number }).exitCode).toBe(2);
    expect(stderr).toMatch(/^jit-provision: configuration_error: DATABASE_URL is not set/);
  });
});

// Every case spawns several CLI processes (about a second each from source): generous per-case budgets for a
// loaded machine; none of them is a timing assertion.
describe.skipIf(DATABASE_URL === undefined)('jit-provision against Postgres', { timeout: 180_000 }, () => {
  const t = cliSuite('cmds');
  const { cli } = t;

  it('migrate creates a fresh schema, a second run finds it up to date', async () => {
    const fresh = await freshDatabase('migrate', { migrate: false });
    try {
      const first = await cli(['migrate'], fresh.env);
      expect(first).toMatchObject({ code: 0 });
      expect(first.stdout).toContain('applied migration(s)');
      const again = await cli(['migrate', '--schema', fresh.schema], {
        ...fresh.env,
        JIT_PROVISION_SCHEMA: '',
      });
      expect(again).toMatchObject({ code: 0 });
      expect(again.stdout).toContain(`schema "${fresh.schema}" is up to date`);
    } finally {
      await fresh.close();
    }
  });

  it('users add → a first login through the SDK on the same schema finds that user, with the role', async () => {
    const added = await cli([
      'users',
      'add',
      '--issuer',
      ISSUER,
      '--subject',
      'boss',
      '--email',
      'boss@example.com',
      '--role',
      'admin',
      '--json',
    ]);
    expect(added.code).toBe(0);
    const user = JSON.parse(added.stdout);
    expect(user).toMatchObject({ issuer: ISSUER, subject: 'boss', username: 'oidc:kcl:boss', role: 'admin' });
    const app = createProvisioner({ store: t.store });
    const login = await app.ensureUserExists({ issuer: ISSUER, subject: 'boss', email: 'boss@example.com' });
    expect(login).toMatchObject({ created: false, user: { id: user.id, role: 'admin' } });
  });

  it('users show finds a user by id, by username and by --issuer/--subject; set-role changes the role', async () => {
    const { user } = await t.store.upsert({
      issuer: ISSUER,
      subject: 'ref',
      username: 'oidc:kcl:ref',
      role: 'user',
    });
    for (const ref of [[user.id], ['oidc:kcl:ref'], ['--issuer', ISSUER, '--subject', 'ref']]) {
      const shown = await cli(['users', 'show', ...ref, '--json']);
      expect(shown.code).toBe(0);
      expect(JSON.parse(shown.stdout)).toMatchObject({ id: user.id, role: 'user' });
    }
    const set = await cli(['users', 'set-role', 'oidc:kcl:ref', 'editor']);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/role:\s+editor/);
    const byKey = await cli([
      'users',
      'set-role',
      '--issuer',
      ISSUER,
      '--subject',
      'ref',
      'auditor',
      '--json',
    ]);
    expect(JSON.parse(byKey.stdout)).toMatchObject({ role: 'auditor' });
    expect((await t.store.getUser(user.id))?.role).toBe('auditor');
  });

  it('bad refs: an unknown user is user_not_found (exit 1); a missing or doubled ref is a usage error (exit 2)', async () => {
    for (const ref of [['nobody'], ['oidc:kcl:nobody'], ['--issuer', ISSUER, '--subject', 'nobody']]) {
      const shown = await cli(['users', 'show', ...ref]);
      expect(shown.code).toBe(1);
      expect(shown.stderr).toMatch(/^jit-provision: user_not_found: /);
      expect(shown.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect((await cli(['users', 'set-role', 'nobody', 'admin'])).code).toBe(1);
    expect((await cli(['users', 'show'])).code).toBe(2);
    expect((await cli(['users', 'show', 'x', '--issuer', ISSUER, '--subject', 'y'])).code).toBe(2);
    expect((await cli(['users', 'set-role', 'oidc:kcl:boss', 'Not A Role'])).code).toBe(1);
  });

  it('invite prints a working link; invitations list shows it pending; revoke --soft, then hard', async () => {
    const invited = await cli(['invite', 'Ada@Example.com', '--role', 'editor', '--expires', '2d', '--json']);
    expect(invited.code).toBe(0);
    const { invitation, url } = JSON.parse(invited.stdout);
    expect(invitation).toMatchObject({ email: 'ada@example.com', role: 'editor' });
    expect(Date.parse(invitation.expiresAt) - Date.parse(invitation.createdAt)).toBeGreaterThan(
      2 * DAY - 60_000,
    );
    expect(Date.parse(invitation.expiresAt) - Date.parse(invitation.createdAt)).toBeLessThan(
      2 * DAY + 60_000,
    );
    const token = new URL(url).searchParams.get('token') as string;
    const service = createInvitationService({ store: t.store, secret: SECRET });
    expect(await service.peek({ token })).toMatchObject({ email: 'ada@example.com', role: 'editor' });
    // The secret is never printed, and the token appears only in the link.
    expect(invited.stdout + invited.stderr).not.toContain(SECRET);

    const text = await cli(['invite', 'bob@example.com']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^https:\/\/app\.example\.com\/signup\?token=[\w-]{43}\n$/);

    const listed = JSON.parse((await cli(['invitations', 'list', '--status', 'pending', '--json'])).stdout);
    expect(listed.invitations.map((i: { email: string }) => i.email).sort()).toEqual([
      'ada@example.com',
      'bob@example.com',
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/token/i);

    expect((await cli(['invitations', 'revoke', invitation.id, '--soft'])).code).toBe(0);
    const revoked = JSON.parse((await cli(['invitations', 'list', '--status', 'revoked', '--json'])).stdout);
    expect(revoked.invitations.map((i: { id: string }) => i.id)).toEqual([invitation.id]);
    expect((await cli(['invitations', 'revoke', invitation.id])).code).toBe(0);
    const gone = await cli(['invitations', 'revoke', invitation.id]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('invitation_not_found');
    expect((await cli(['invitations', 'list', '--status', 'bogus'])).code).toBe(1);
  });

  it('invitations purge from a cron-like run: no secret, no output, exit 0; --json and --verbose report', async () => {
    const old = (email: string, daysAgo: number) =>
      t.store.invitations.createInvitation({
        id: crypto.randomUUID(),
        tokenHash: crypto.randomUUID(),
        email,
        role: 'user',
        invitedBy: 'test',
        expiresAt: new Date(Date.now() - daysAgo * DAY),
      });
    await old('stale1@example.com', 40);
    await old('stale2@example.com', 45);
    await old('recent@example.com', 2);
    // cron: a bare environment (only the database), no terminal, another working directory.
    const cron = { DATABASE_URL: t.db.env.DATABASE_URL, JIT_PROVISION_SCHEMA: t.db.schema };
    const quiet = await cli(['invitations', 'purge', '--older-than', '30d'], cron, '/');
    expect(quiet).toEqual({ code: 0, stdout: '', stderr: '' });
    const emails = (await t.store.invitations.listInvitations({ now: new Date() })).map((i) => i.email);
    expect(emails).toContain('recent@example.com');
    expect(emails).not.toContain('stale1@example.com');
    await old('stale3@example.com', 40);
    const json = await cli(['invitations', 'purge', '--json'], cron);
    expect(JSON.parse(json.stdout)).toMatchObject({ purged: 1 });
    const verbose = await cli(['invitations', 'purge', '--older-than', '1d', '--verbose'], cron);
    expect(verbose.stdout).toMatch(/^purged 1 invitation/);
    // 0d: every invitation that has ended, however recently; a pending one stays.
    await old('just-expired@example.com', 1 / 86_400);
    await old('still-pending@example.com', -1);
    const now = await cli(['invitations', 'purge', '--older-than', '0d', '--json'], cron);
    expect(now.code, now.stderr).toBe(0);
    expect(JSON.parse(now.stdout)).toEqual({ purged: 1, olderThanMs: 0 });
    const left = (await t.store.invitations.listInvitations({ now: new Date() })).map((i) => i.email);
    expect(left).not.toContain('just-expired@example.com');
    expect(left).toContain('still-pending@example.com');
    // An invitation valid for no time at all is still refused.
    const born = await cli(['invite', 'zero@example.com', '--expires', '0d'], t.db.env);
    expect(born.code).toBe(2);
    expect(born.stderr).toContain('--expires must be more than zero');
  });

  it('outbox list shows a failed event; retry --all-failed puts it back to pending; an unknown id exits 1', async () => {
    const { user } = await t.store.upsert({
      issuer: ISSUER,
      subject: 'hooked',
      username: 'oidc:kcl:hooked',
      role: 'user',
      emitEvent: { identity: { issuer: ISSUER, subject: 'hooked' } },
    });
    for (;;) {
      const batch = await t.store.outbox.claim({ limit: 50, leaseMs: 60_000 });
      if (batch.length === 0) break;
      for (const e of batch) await t.store.outbox.fail(e.id, { error: 'smtp down', retryAt: null });
    }
    const failed = JSON.parse((await cli(['outbox', 'list', '--status', 'failed', '--json'])).stdout);
    expect(failed.events).toEqual([
      expect.objectContaining({ userId: user.id, status: 'failed', lastError: 'smtp down' }),
    ]);
    const table = await cli(['outbox', 'list']);
    expect(table.stdout).toMatch(/^id\s+type\s+userId\s+status/);
    const retried = await cli(['outbox', 'retry', '--all-failed', '--json']);
    expect(JSON.parse(retried.stdout)).toEqual({ retried: [failed.events[0].id] });
    expect(await t.store.outbox.list({ status: 'failed' })).toEqual([]);
    expect((await t.store.outbox.list({ status: 'pending' })).map((e) => e.attempts)).toEqual([0]);
    const unknown = await cli(['outbox', 'retry', 'no-such-event']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('outbox_event_not_found');
    expect((await cli(['outbox', 'retry'])).code).toBe(2);
  });

  // Counts what the cases above left in this file's schema (they run in order).
  it('status counts users by role and by status, invitations and outbox events', async () => {
    const status = await cli(['status', '--json']);
    expect(status.code).toBe(0);
    const doc = JSON.parse(status.stdout);
    expect(doc).toMatchObject({ source: 'env', schema: t.db.schema, schemaVersion: expect.any(Number) });
    expect(doc.users.byRole).toMatchObject({ admin: 1, auditor: 1 });
    expect(doc.users.byStatus).toEqual({ active: doc.users.total });
    expect(doc.outbox).toMatchObject({ pending: 1, failed: 0 });
    expect(doc.invitations.pending).toBeGreaterThanOrEqual(1);
    const text = await cli(['status']);
    expect(text.stdout).toMatch(/users by role\nrole\s+count\n/);
  });

  it('bad configuration is one line naming the variable, exit 2; secrets are never printed', async () => {
    const noUrl = await cli(['status'], {});
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/^jit-provision: configuration_error: DATABASE_URL is not set/);
    const { INVITATION_SECRET: _s, ...noSecret } = t.db.env;
    const missingSecret = await cli(['invite', 'x@example.com'], noSecret);
    expect(missingSecret.code).toBe(2);
    expect(missingSecret.stderr).toContain('INVITATION_SECRET');
    const short = await cli(['invite', 'x@example.com'], {
      ...t.db.env,
      INVITATION_SECRET: 'short-secret-value',
    });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('INVITATION_SECRET must be at least 32 bytes');
    expect(short.stderr).not.toContain('short-secret-value');
    const { INVITATION_URL: _u, ...noUrlTemplate } = t.db.env;
    expect((await cli(['invite', 'x@example.com'], noUrlTemplate)).stderr).toContain('INVITATION_URL');
    const noToken = await cli(['invite', 'x@example.com'], {
      ...t.db.env,
      INVITATION_URL: 'https://app.example.com/',
    });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('{token}');
    // --secret-file reads the secret from a file (never a value on the command line).
    writeFileSync(t.dir.path('secret'), `${SECRET}\n`, { mode: 0o600 });
    const fromFile = await cli(
      ['--secret-file', t.dir.path('secret'), 'invite', 'file@example.com'],
      noSecret,
    );
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout + fromFile.stderr).not.toContain(SECRET);
    expect((await cli(['--config', t.dir.path('missing.mjs'), 'status'])).code).toBe(2);
  });

  it('an unreachable database is one line and exit 1, no stack trace', async () => {
    const down = await cli(['status'], { ...t.db.env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
    expect(down.code).toBe(1);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    expect(down.stderr).not.toMatch(/\n\s+at /);
    const users = await cli(['users', 'show', 'x'], {
      ...t.db.env,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
    });
    expect(users.code).toBe(1);
    expect(users.stderr).toMatch(/^jit-provision: provisioning_unavailable: [^\n]*\n$/);
  });

  it('a jit-provision.config.ts in the working directory is used: invitations go out through its send hook', async () => {
    const sent = t.dir.path('sent.jsonl');
    const src = (pkg: string) => `${ROOT}packages/${pkg}/src/index.ts`;
    writeFileSync(
      t.dir.path('jit-provision.config.ts'),
      `import { appendFileSync } from 'node:fs';
import { createInvitationService, createProvisioner, type InvitationMessage } from '${src('core')}';
import { createPostgresStore } from '${src('store-postgres')}';
const store = createPostgresStore({ connectionString: ${JSON.stringify(t.db.env.DATABASE_URL)}, schema: ${JSON.stringify(t.db.schema)} });
export const provisioner = createProvisioner({ store, defaultRole: 'member' });
export const invitations = createInvitationService({
  store,
  secret: ${JSON.stringify(SECRET)},
  urlFor: (t: string) => 'https://configured.example.com/join/' + t,
  send: (m: InvitationMessage) => appendFileSync(${JSON.stringify(sent)}, JSON.stringify({ email: m.email, url: m.url }) + '\\n'),
});
`,
    );
    // No database variables at all: everything comes from the config file.
    const invited = await cli(['invite', 'cfg@example.com'], {}, t.dir.dir);
    expect(invited.code).toBe(0);
    expect(invited.stdout).not.toContain('https://configured.example.com');
    const [message] = readFileSync(sent, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(message).toMatchObject({
      email: 'cfg@example.com',
      url: expect.stringMatching(/^https:\/\/configured\.example\.com\/join\//),
    });
    const printed = await cli(['invite', 'cfg2@example.com', '--print-url'], {}, t.dir.dir);
    expect(printed.stdout).toMatch(/^https:\/\/configured\.example\.com\/join\/[\w-]{43}\n$/);
    const added = await cli(
      ['users', 'add', '--issuer', ISSUER, '--subject', 'cfg', '--json'],
      {},
      t.dir.dir,
    );
    expect(JSON.parse(added.stdout)).toMatchObject({ role: 'member' });
    const status = JSON.parse((await cli(['status', '--json'], {}, t.dir.dir)).stdout);
    expect(status.source).toBe(t.dir.path('jit-provision.config.ts'));
    writeFileSync(t.dir.path('broken.mjs'), 'export const nothing = 1;\n');
    const broken = await cli(['--config', 'broken.mjs', 'status'], {}, t.dir.dir);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('must export { provisioner, invitations }');
  });
});
