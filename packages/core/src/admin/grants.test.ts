import { createMemoryStore } from '@jit-provision/store-memory';
import { describe, expect, it } from 'vitest';
import { createProvisioner } from '../provisioning';
import type { AdminAuth } from './context';
import { createGrantChecks } from './grants';

const ISSUER = 'https://idp.example.com';

async function setup() {
  const provisioner = createProvisioner({ store: createMemoryStore(), issuers: [] });
  const admin = await provisioner.preProvision({ issuer: ISSUER, subject: 'admin', role: 'admin' });
  const support = await provisioner.preProvision({ issuer: ISSUER, subject: 'support', role: 'support' });
  const iat = Math.floor(Date.now() / 1000) - 60;
  const auth = (user: typeof admin): AdminAuth =>
    ({
      user,
      identity: { issuer: ISSUER, subject: user.subject },
      claims: { iat },
      created: false,
    }) as AdminAuth;
  return { provisioner, admin, support, auth };
}

describe('createGrantChecks', () => {
  it('default assignableRoles: an active admin may give any role, anyone else none; absent roles always pass', async () => {
    const { provisioner, admin, support, auth } = await setup();
    const { mayAssign } = createGrantChecks({ provisioner, authorize: () => true });
    await mayAssign(auth(admin), ['admin', 'owner']);
    await expect(mayAssign(auth(support), ['user'])).rejects.toMatchObject({
      code: 'forbidden',
      status: 403,
    });
    await expect(mayAssign(auth(support), ['admin'])).rejects.toMatchObject({ code: 'forbidden' });
    await mayAssign(auth(support), [undefined, null]);
    const disabled = await provisioner.disable(admin.id);
    await expect(mayAssign(auth(disabled), ['user'])).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('a custom list bounds even admins; a bad answer is a configuration error, a non-function refused at start-up', async () => {
    const { provisioner, admin, auth } = await setup();
    const { mayAssign } = createGrantChecks({
      provisioner,
      authorize: () => true,
      assignableRoles: async () => ['user', 'editor'],
    });
    await mayAssign(auth(admin), ['editor', 'user', undefined]);
    await expect(mayAssign(auth(admin), ['editor', 'admin'])).rejects.toMatchObject({ code: 'forbidden' });
    const broken = createGrantChecks({
      provisioner,
      authorize: () => true,
      assignableRoles: () => 'admin' as never,
    });
    await expect(broken.mayAssign(auth(admin), ['admin'])).rejects.toMatchObject({
      code: 'configuration_error',
    });
    expect(() =>
      createGrantChecks({ provisioner, authorize: () => true, assignableRoles: ['admin'] as never }),
    ).toThrow(expect.objectContaining({ code: 'configuration_error' }));
  });

  it('recheck answers the fresh row, and refuses a caller deleted, disabled, signed out or no longer authorised since', async () => {
    const { provisioner, admin, support, auth } = await setup();
    const authorize = (a: AdminAuth) => a.user.role === 'admin';
    const { recheck } = createGrantChecks({ provisioner, authorize });
    const stale = auth(admin);
    await provisioner.setRole(admin.id, 'admin'); // unchanged role: still admitted
    expect((await recheck(stale)).user).toMatchObject({ id: admin.id, role: 'admin' });
    const forbidden = { code: 'forbidden', status: 403 };

    await provisioner.setRole(admin.id, 'user');
    await expect(recheck(stale)).rejects.toMatchObject(forbidden);
    await provisioner.setRole(admin.id, 'admin');
    await provisioner.disable(admin.id);
    await expect(recheck(stale)).rejects.toMatchObject(forbidden);
    await provisioner.enable(admin.id);
    await recheck(stale);
    await provisioner.revokeSessions(admin.id);
    await expect(recheck(stale)).rejects.toMatchObject(forbidden);
    const { iat: _iat, ...noIat } = stale.claims;
    await expect(recheck({ ...stale, claims: noIat })).rejects.toMatchObject(forbidden);
    await provisioner.deleteUser(support.id);
    await expect(recheck(auth(support))).rejects.toMatchObject(forbidden);
  });
});
