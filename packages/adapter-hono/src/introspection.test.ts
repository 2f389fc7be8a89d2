import { createMemoryStore } from '@jit-provision/store-memory';
import { Hono } from 'hono';
import {
  type OpaqueTokenAnswer,
  type OpaqueTokenApp,
  opaqueTokenView,
  runOpaqueTokenSuite,
} from '../../testing/src/test-support/opaque-token-suite';
import { jitProvision, requireScopes } from './index';

// The opaque-token cases (a real oidc-provider, introspection) are the testing
// package's shared suite; this file only mounts the adapter.
const app: OpaqueTokenApp = async (provisioner) => {
  const hono = new Hono();
  hono.use('*', jitProvision(provisioner));
  hono.get('/orders', requireScopes('orders:read'), (c) => c.json(opaqueTokenView(c.get('auth'))));
  return async (path: string, token: string): Promise<OpaqueTokenAnswer> => {
    const res = await hono.request(path, { headers: { authorization: `Bearer ${token}` } });
    return {
      status: res.status,
      headers: Object.fromEntries(res.headers),
      body: (await res.json()) as Record<string, unknown>,
    };
  };
};

runOpaqueTokenSuite('hono', app, createMemoryStore);
