import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { runGuardSuite } from '@jit-provision/core/testing';
import { createMemoryStore } from '@jit-provision/store-memory';
import express from 'express';
import request from 'supertest';
import { jitProvision, requireClaims, requirePermissions, requireRole, requireScopes } from './index';

const express4 = createRequire(import.meta.url)('express4') as typeof express;

for (const [name, createExpress] of [
  ['express', express],
  ['express 4', express4],
] as const) {
  runGuardSuite({
    name,
    createStore: createMemoryStore,
    guards: { requireRole, requireScopes, requirePermissions, requireClaims },
    createApp(provisioner, options, routes) {
      const app = createExpress();
      app.use(jitProvision(provisioner, options));
      for (const { path, guards } of routes) app.get(path, ...guards, (_req, res) => res.json({ ok: true }));
      // The hostile cases send 10,000-item claims: above Node's default 16 KiB header limit.
      const server = createServer({ maxHeaderSize: 256 * 1024 }, app);
      return {
        async request(path, headers = {}) {
          const response = await request(server).get(path).set(headers);
          return {
            status: response.status,
            headers: response.headers as Record<string, string>,
            body: response.body,
          };
        },
      };
    },
  });
}
