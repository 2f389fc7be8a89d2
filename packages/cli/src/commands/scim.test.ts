import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../index';
import { cliSuite, DATABASE_URL, ROOT, runCli, scratch } from '../test-support/harness';

const ISSUER = 'https://login.microsoftonline.com/tenant/v2.0';

/** `jit-provision …` in-process, capturing both streams. */
async function inProcess(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    env: {},
    cwd: ROOT,
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    isTTY: false,
  });
  return { code, stdout, stderr };
}

const sha256 = (token: string) => `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;

describe('scim token create (in-process, no configuration needed)', () => {
  it('prints a new 32-byte base64url token and its sha256: hash; every run a new one', async () => {
    const first = await inProcess(['scim', 'token', 'create', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const { token, hash } = JSON.parse(first.stdout) as { token: string; hash: string };
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(hash).toBe(sha256(token));
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const second = JSON.parse((await inProcess(['scim', 'token', 'create', '--json'])).stdout);
    expect(second.token).not.toBe(token);
  });

  it('as text: the token and the hash on their own lines', async () => {
    const { code, stdout } = await inProcess(['scim', 'token', 'create']);
    expect(code).toBe(0);
    const token = /^token:\s+([\w-]{43})$/m.exec(stdout)?.[1] as string;
    expect(stdout).toMatch(new RegExp(`^hash:\\s+${sha256(token)}$`, 'm'));
  });

  it.each([[['scim', 'token', 'create']], [['scim', 'status']]])('%j --help has an example', async (args) => {
    const { code, stdout } = await inProcess([...args, '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Examples?:\n {2}\$ jit-provision scim/);
  });
});

// Each case spawns a CLI process (about a second from source) that loads a config file: no timing asserted.
describe('scim status (a config file with a real store-memory)', { timeout: 60_000 }, () => {
  const dir = scratch();
  afterAll(() => dir.remove());
  const src = (pkg: string) => `${ROOT}packages/${pkg}/src/index.ts`;
  const config = (name: string, body: string) => {
    writeFileSync(
      dir.path(name),
      `import { createProvisioner } from '${src('core')}';
import { createMemoryStore } from '${src('store-memory')}';
export default async () => {
  const memory = createMemoryStore();
${body}
};
`,
    );
    return dir.path(name);
  };

  it('counts the SCIM users and groups, per issuer, and shows the last SCIM write', async () => {
    const file = config(
      'with-scim.config.ts',
      `  const user = (n: number, issuer: string) => memory.scim.createUser({
    issuer, subject: null, username: 'scim:' + n, role: 'user', userName: 'u' + n + '@example.com',
    externalId: 'ext-' + n, attributes: {}, email: null, name: null,
  });
  await user(1, ${JSON.stringify(ISSUER)});
  await user(2, ${JSON.stringify(ISSUER)});
  await user(3, 'https://other.example.com');
  await memory.scim.createGroup(${JSON.stringify(ISSUER)}, { displayName: 'Admins', externalId: null, attributes: {} });
  return { provisioner: createProvisioner({ store: memory }), store: memory };`,
    );
    const all = await runCli(['--config', file, 'scim', 'status', '--json'], { env: {} });
    expect(all.code, all.stderr).toBe(0);
    const doc = JSON.parse(all.stdout);
    expect(doc).toEqual({ users: 3, groups: 1, lastWrite: expect.any(String) });
    expect(Date.parse(doc.lastWrite)).not.toBeNaN();
    const one = await runCli(['--config', file, 'scim', 'status', '--issuer', ISSUER, '--json'], { env: {} });
    expect(JSON.parse(one.stdout)).toMatchObject({ issuer: ISSUER, users: 2, groups: 1 });
    const text = await runCli(['--config', file, 'scim', 'status'], { env: {} });
    expect(text.stdout).toMatch(/^users:\s+3\ngroups:\s+1\nlast SCIM write:\s+\d{4}-\d\d-\d\dT/);
  });

  it('a store without the scim part: one configuration_error line, exit 2', async () => {
    const file = config(
      'without-scim.config.ts',
      `  const store = { ...memory, scim: undefined };
  return { provisioner: createProvisioner({ store }), store };`,
    );
    const result = await runCli(['--config', file, 'scim', 'status'], { env: {} });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^jit-provision: configuration_error: [^\n]*store\.scim[^\n]*\n$/);
  });
});

describe.skipIf(DATABASE_URL === undefined)(
  'scim status on store-postgres (DATABASE_URL)',
  { timeout: 60_000 },
  () => {
    const t = cliSuite('scim');
    it('counts what SCIM wrote in the schema; an empty schema has no last write', async () => {
      const empty = await t.cli(['scim', 'status', '--json']);
      expect(empty.code, empty.stderr).toBe(0);
      expect(JSON.parse(empty.stdout)).toEqual({ users: 0, groups: 0, lastWrite: null });
      await t.store.scim.createUser({
        issuer: ISSUER,
        subject: null,
        username: 'scim:pg-1',
        role: 'user',
        userName: 'pg-1@example.com',
        externalId: 'oid-pg-1',
        attributes: {},
        email: null,
        name: null,
      });
      const one = JSON.parse((await t.cli(['scim', 'status', '--issuer', ISSUER, '--json'])).stdout);
      expect(one).toMatchObject({ issuer: ISSUER, users: 1, groups: 0, lastWrite: expect.any(String) });
    });
  },
);
