import { createMemoryStore } from '@jit-provision/store-memory';
import Fastify from 'fastify';
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
  const server = Fastify();
  await server.register(jitProvision, { provisioner });
  server.get('/orders', { preHandler: requireScopes('orders:read') }, async (req) =>
    opaqueTokenView(req.auth),
  );
  await server.ready();
  return async (path: string, token: string): Promise<OpaqueTokenAnswer> => {
    const res = await server.inject({
      method: 'GET',
      url: path,
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.statusCode, headers: res.headers as Record<string, string>, body: res.json() };
  };
};

runOpaqueTokenSuite('fastify', app, createMemoryStore);
