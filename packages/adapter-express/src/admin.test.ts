import { createMemoryStore } from '@jit-provision/store-memory';
import { runAdminApiSuite } from '@jit-provision/testing';
import express from 'express';
import request from 'supertest';
import { adminApi } from './index';

runAdminApiSuite({
  name: 'express',
  createStore: createMemoryStore,
  mount(options) {
    const app = express();
    // The client address comes from X-Forwarded-For, as behind a trusted proxy.
    app.set('trust proxy', true);
    app.use('/admin/api', adminApi(options));
    return {
      // Over a real socket (supertest listens on an ephemeral port).
      async request({ method, path, headers = {}, body, ip }) {
        let req = request(app)
          [method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'](path)
          .set(headers);
        if (ip !== undefined) req = req.set('x-forwarded-for', ip);
        const res = body === undefined ? await req : await req.send(body);
        return {
          status: res.status,
          headers: res.headers as Record<string, string>,
          body: res.text ? JSON.parse(res.text) : undefined,
        };
      },
    };
  },
});
