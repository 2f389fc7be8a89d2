import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cliSuite, DATABASE_URL, hasScript, ROOT, runOnTerminal, startApp } from '../test-support/harness';

const ISSUER = 'https://sso.example.com/realms/main';

// Each case spawns several CLI processes (about a second each from source): generous budgets for a loaded
// machine; none of them is a timing assertion.
describe.skipIf(DATABASE_URL === undefined)('users lifecycle commands', { timeout: 180_000 }, () => {
  const t = cliSuite('life');
  const { cli } = t;
  const add = async (subject: string, role = 'user', email?: string) =>
    (
      await t.store.upsert({
        issuer: ISSUER,
        subject,
        username: `oidc:kcl:${subject}`,
        role,
        ...(email === undefined ? {} : { email }),
      })
    ).user;
  const json = (stdout: string) => JSON.parse(stdout);

  it('users list: --query, --role, --status and --seen-before find the right users; --seen-before 90d finds a dormant one', async () => {
    const ada = await add('list-ada', 'editor', 'ada@example.com');
    const bob = await add('list-bob', 'user', 'bob@example.com');
    const old = await add('list-old', 'user', 'old@example.com');
    // Dormant: created and last seen 120 and 100 days ago. Ada was seen today; Bob never, but is new.
    await t.db.pool.query(
      `UPDATE "${t.db.schema}".users SET created_at = now() - interval '120 days', last_seen_at = now() - interval '100 days' WHERE id = $1`,
      [old.id],
    );
    await t.db.pool.query(`UPDATE "${t.db.schema}".users SET last_seen_at = now() WHERE id = $1`, [ada.id]);
    await t.store.users.setStatus(bob.id, 'disabled');

    const ids = async (args: string[]) => {
      const result = await cli(['users', 'list', ...args, '--json']);
      expect(result.code, result.stderr).toBe(0);
      return (json(result.stdout).users as { id: string }[]).map((u) => u.id);
    };
    expect(await ids(['--seen-before', '90d'])).toEqual([old.id]);
    expect(await ids(['--seen-before', '12h', '--query', 'list-'])).toEqual([old.id]);
    expect(await ids(['--query', 'ADA@example'])).toEqual([ada.id]);
    expect(await ids(['--role', 'editor'])).toEqual([ada.id]);
    expect((await ids(['--status', 'disabled'])).includes(bob.id)).toBe(true);
    expect(await ids(['--status', 'active', '--query', 'list-'])).toEqual([old.id, ada.id]);

    // A table by default, times in ISO 8601.
    const text = await cli(['users', 'list', '--query', 'list-ada']);
    expect(text.stdout).toMatch(/^id\s+username\s+email\s+role\s+status\s+lastSeenAt\s+createdAt\n/);
    expect(text.stdout).toMatch(
      /oidc:kcl:list-ada\s+ada@example\.com\s+editor\s+active\s+\d{4}-\d\d-\d\dT[\d:.]+Z/,
    );
    expect(text.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('users list pages through more than one page (cursor) and --limit caps the total', async () => {
    // 600 users in one statement: more than the 500 of one listUsers page.
    await t.db.pool.query(
      `INSERT INTO "${t.db.schema}".users (id, issuer, subject, username, role)
       SELECT gen_random_uuid()::text, $1, 'bulk-' || i, 'oidc:kcl:bulk-' || i, 'bulk' FROM generate_series(1, 600) AS i`,
      [ISSUER],
    );
    const all = await cli(['users', 'list', '--role', 'bulk', '--json']);
    const users = json(all.stdout).users as { id: string; subject: string }[];
    expect(users).toHaveLength(600);
    expect(new Set(users.map((u) => u.id)).size).toBe(600);
    expect(json(all.stdout).more).toBe(false);
    const capped = await cli(['users', 'list', '--role', 'bulk', '--limit', '550', '--json']);
    expect(json(capped.stdout).users).toHaveLength(550);
    expect(json(capped.stdout).more).toBe(true);
    expect((json(capped.stdout).users as { id: string }[]).map((u) => u.id)).toEqual(
      users.slice(0, 550).map((u) => u.id),
    );
    const small = await cli(['users', 'list', '--role', 'bulk', '--limit', '3']);
    expect(small.stdout.trim().split('\n')).toHaveLength(1 + 3 + 1);
    expect(small.stdout).toContain('(more: raise --limit)');
  });

  it('bad list arguments: a bad --status or --role is invalid_field (exit 1); a bad --seen-before or --limit is a usage error (exit 2)', async () => {
    for (const args of [
      ['--status', 'banned'],
      ['--role', 'Not A Role'],
    ]) {
      const result = await cli(['users', 'list', ...args]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^jit-provision: invalid_field: [^\n]*\n$/);
    }
    for (const args of [
      ['--seen-before', '90'],
      ['--seen-before', 'soon'],
      ['--limit', '0'],
      ['--limit', 'x'],
    ]) {
      const result = await cli(['users', 'list', ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^jit-provision: usage_error: /);
    }
  });

  it('disable (with --reason), enable and revoke-sessions change the row; show sees it; each by id, username or issuer/subject', async () => {
    const user = await add('cycle');
    const disabled = await cli([
      'users',
      'disable',
      'oidc:kcl:cycle',
      '--reason',
      'left the company',
      '--json',
    ]);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(json(disabled.stdout)).toMatchObject({ id: user.id, status: 'disabled' });
    expect(await t.store.getUser(user.id)).toMatchObject({
      status: 'disabled',
      disabledAt: expect.any(Date),
    });
    const shown = await cli(['users', 'show', user.id]);
    expect(shown.stdout).toMatch(/status:\s+disabled/);
    expect(shown.stdout).toMatch(/disabledAt:\s+\d{4}-\d\d-\d\dT/);
    // Idempotent: disabling again is fine.
    expect((await cli(['users', 'disable', user.id])).code).toBe(0);

    const enabled = await cli(['users', 'enable', '--issuer', ISSUER, '--subject', 'cycle', '--json']);
    expect(enabled.code).toBe(0);
    expect(json(enabled.stdout)).toMatchObject({ status: 'active', disabledAt: null });
    expect(await t.store.getUser(user.id)).toMatchObject({ status: 'active' });

    expect((await t.store.getUser(user.id))?.tokensValidAfter).toBeNull();
    const revoked = await cli(['users', 'revoke-sessions', user.id, '--json']);
    expect(revoked.code).toBe(0);
    const after = (await t.store.getUser(user.id))?.tokensValidAfter;
    expect(after).toBeInstanceOf(Date);
    expect(json(revoked.stdout).tokensValidAfter).toBe(after?.toISOString());
  });

  it('set-role <role> sets it; set-role --default hands it back to the default role; neither or both is exit 2', async () => {
    const user = await add('promote');
    expect(json((await cli(['users', 'set-role', user.id, 'admin', '--json'])).stdout)).toMatchObject({
      role: 'admin',
    });
    expect((await t.store.getUser(user.id))?.role).toBe('admin');
    const back = await cli(['users', 'set-role', 'oidc:kcl:promote', '--default', '--json']);
    expect(back.code).toBe(0);
    expect(json(back.stdout)).toMatchObject({ role: 'user' });
    expect((await t.store.getUser(user.id))?.role).toBe('user');
    const custom = await cli(['users', 'set-role', user.id, '--default'], {
      ...t.db.env,
      JIT_DEFAULT_ROLE: 'member',
    });
    expect(json((await cli(['users', 'show', user.id, '--json'])).stdout)).toMatchObject({ role: 'member' });
    expect(custom.code).toBe(0);
    expect((await cli(['users', 'set-role', user.id])).code).toBe(2);
    expect((await cli(['users', 'set-role', user.id, 'admin', '--default'])).code).toBe(2);
    expect((await t.store.getUser(user.id))?.role).toBe('member');
  });

  it('bad refs: every lifecycle command exits 1 with user_not_found for an unknown id, username or issuer/subject', async () => {
    for (const command of ['show', 'disable', 'enable', 'revoke-sessions', 'delete', 'set-role']) {
      for (const ref of [['nobody'], ['oidc:kcl:nobody'], ['--issuer', ISSUER, '--subject', 'nobody']]) {
        const extra = command === 'set-role' ? ['admin'] : command === 'delete' ? ['--yes'] : [];
        const result = await cli(['users', command, ...ref, ...extra]);
        expect(result.code, `${command} ${ref.join(' ')}`).toBe(1);
        expect(result.stderr).toMatch(/^jit-provision: user_not_found: [^\n]*\n$/);
      }
    }
    // No ref at all is a usage error.
    expect((await cli(['users', 'disable'])).code).toBe(2);
  });

  it('delete without --yes on a non-terminal exits 2 and deletes nothing; with --yes it erases the user', async () => {
    const user = await add('erase');
    const refused = await cli(['users', 'delete', user.id]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^jit-provision: usage_error: .*--yes/);
    expect(await t.store.getUser(user.id)).not.toBeNull();
    const deleted = await cli(['users', 'delete', 'oidc:kcl:erase', '--yes', '--json']);
    expect(deleted.code).toBe(0);
    expect(json(deleted.stdout)).toEqual({ deleted: user.id, username: 'oidc:kcl:erase' });
    expect(await t.store.getUser(user.id)).toBeNull();
    const again = await cli(['users', 'delete', user.id, '--yes']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('user_not_found');
  });

  it('delete on a terminal (a pseudo-TTY from script(1)) asks: "n" deletes nothing (exit 1), "y" deletes', async (context) => {
    if (!(await hasScript())) return context.skip('script(1) from util-linux is not installed');
    const user = await add('confirm');
    const prompt = '[y/N]';
    const no = await runOnTerminal(['users', 'delete', 'oidc:kcl:confirm'], t.db.env, {
      prompt,
      answer: 'n',
    });
    expect(no.output).toContain(`Delete oidc:kcl:confirm (${user.id})?`);
    expect(no.output).toContain('not_confirmed');
    expect(no.code).toBe(1);
    expect(await t.store.getUser(user.id)).not.toBeNull();
    const yes = await runOnTerminal(['users', 'delete', 'oidc:kcl:confirm'], t.db.env, {
      prompt,
      answer: 'y',
    });
    expect(yes.code, yes.output).toBe(0);
    expect(yes.output).toContain(`deleted oidc:kcl:confirm (${user.id})`);
    expect(await t.store.getUser(user.id)).toBeNull();
  });

  it("the actor: events name cli:<os user>, or --actor; disable's --reason is in the event (app config with onUserEvent)", async () => {
    const user = await add('audited');
    const events = t.dir.path('events.jsonl');
    const src = (pkg: string) => `${ROOT}packages/${pkg}/src/index.ts`;
    writeFileSync(
      t.dir.path('jit-provision.config.ts'),
      `import { appendFileSync } from 'node:fs';
import { createProvisioner } from '${src('core')}';
import { createPostgresStore } from '${src('store-postgres')}';
const store = createPostgresStore({ connectionString: ${JSON.stringify(t.db.env.DATABASE_URL)}, schema: ${JSON.stringify(t.db.schema)} });
export const provisioner = createProvisioner({
  store,
  userCache: false,
  onUserEvent: [(e) => { appendFileSync(${JSON.stringify(events)}, JSON.stringify({ type: e.type, actor: e.actor, data: e.data ?? null }) + '\\n'); }],
});
export { store };
`,
    );
    appendFileSync(events, '');
    const inDir = (args: string[]) => cli(args, {}, t.dir.dir);
    expect((await inDir(['users', 'disable', user.id, '--reason', 'left'])).code).toBe(0);
    expect((await inDir(['users', 'set-role', user.id, 'admin', '--actor', 'ops@example.com'])).code).toBe(0);
    expect((await inDir(['users', 'revoke-sessions', user.id, '--actor', 'ops@example.com'])).code).toBe(0);
    expect((await inDir(['users', 'delete', user.id, '--yes'])).code).toBe(0);
    const me = `cli:${userInfo().username}`;
    expect(
      readFileSync(events, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { type: 'user.disabled', actor: me, data: { reason: 'left' } },
      {
        type: 'user.role_changed',
        actor: 'ops@example.com',
        data: { from: 'user', to: 'admin', source: 'local' },
      },
      { type: 'user.sessions_revoked', actor: 'ops@example.com', data: null },
      { type: 'user.deleted', actor: me, data: null },
    ]);
    // A bad actor is refused by core before anything is written.
    const bad = await cli(['users', 'enable', 'oidc:kcl:promote', '--actor', 'x'.repeat(300)]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid_field/);
  });

  it('set-role and disable are seen by a running app process (user cache on, 10-minute TTL) through the change feed', async () => {
    const user = await add('live');
    const app = await startApp(t.db.env, { issuer: ISSUER, subject: 'live' });
    try {
      const latencies: Record<string, number> = {};
      const observe = async (expectation: Record<string, unknown>, args: string[], label: string) => {
        app.send({ op: 'watch', expect: expectation });
        await app.next((m) => m['watching'] === true);
        const result = await cli(args);
        expect(result.code, result.stderr).toBe(0);
        const changedAt = Date.parse(json(result.stdout).updatedAt);
        const seen = await app.next((m) => typeof m['seenAt'] === 'number');
        // Seen by a store read after the cache entry was dropped: the 10-minute TTL cannot explain it.
        expect(seen['path'], label).not.toBe('cache');
        latencies[label] = Math.round((seen['seenAt'] as number) - changedAt);
      };
      await observe({ role: 'admin' }, ['users', 'set-role', user.id, 'admin', '--json'], 'set-role');
      await observe({ error: 'user_disabled' }, ['users', 'disable', 'oidc:kcl:live', '--json'], 'disable');
      // The observed latency (database commit → the app sees it), for the report; not a bound on a loaded machine.
      console.info(`change seen by the app process after (ms): ${JSON.stringify(latencies)}`);
    } finally {
      await app.stop();
    }
  });
});
