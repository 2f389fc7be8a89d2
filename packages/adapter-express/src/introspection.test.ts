import { createMemoryStore } from '@jit-provision/store-memory';
import express from 'express';
import request from 'supertest';
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
  const server = express();
  server.use(jitProvision(provisioner));
  server.get('/orders', requireScopes('orders:read'), (req, res) => res.json(opaqueTokenView(req.auth)));
  return async (path: string, token: string): Promise<OpaqueTokenAnswer> => {
    const res = await request(server).get(path).set('authorization', `Bearer ${token}`);
    return { status: res.status, headers: res.headers as Record<string, string>, body: res.body };
  };
};

runOpaqueTokenSuite('express', app, createMemoryStore);
