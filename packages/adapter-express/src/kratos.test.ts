import { createMemoryStore } from '@jit-provision/store-memory';
import { runKratosWebhookSuite } from '@jit-provision/testing';
import express from 'express';
import request from 'supertest';
import { kratosWebhooks } from './index';

runKratosWebhookSuite({
  name: 'express',
  createStore: createMemoryStore,
  mount(options) {
    const app = express();
    app.use('/kratos', kratosWebhooks(options));
    // Over a real socket (supertest listens on an ephemeral port).
    return async (path, body, headers) => {
      const res = await request(app).post(path).set(headers).send(body);
      return { status: res.status, body: res.body };
    };
  },
});
