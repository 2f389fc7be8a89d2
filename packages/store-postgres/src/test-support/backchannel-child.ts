// One app process of the back-channel logout test: a Postgres store, a provisioner trusting the test's
// oidc-provider, and a minimal node:http server: POST /bcl (the back-channel logout route table, through
// core's admitRoute/answerRoute as every mounter does), GET /me (authenticate). Prints `listening <port>`.
import { createServer, type IncomingMessage } from 'node:http';
import { createProvisioner, isJitProvisionError } from '@jit-provision/core';
import { admitRoute, answerRoute, parseFormBody, toHttpResponse } from '@jit-provision/core/adapter';
import { backchannelLogout } from '@jit-provision/core/backchannel';
import pg from 'pg';
import { createPostgresStore } from '../index';

const env = (name: string) => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const pool = new pg.Pool({ connectionString: env('DATABASE_URL'), max: 4 });
const store = createPostgresStore({ pool, schema: env('BCL_SCHEMA'), listen: { heartbeatMs: 500 } });
const provisioner = createProvisioner({
  store,
  logger: { warn: () => {}, error: (o, m) => console.error(m, o) },
  issuers: [
    {
      issuer: env('BCL_ISSUER'),
      audience: env('BCL_RESOURCE'),
      backchannelLogout: { clientId: env('BCL_CLIENT_ID') },
    },
  ],
});
const [route] = backchannelLogout({ provisioner }).routes;

async function text(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 16_384) throw new Error('too large');
  }
  return body;
}

const server = createServer(async (req, res) => {
  try {
    if (req.method === 'POST' && req.url === '/bcl' && route !== undefined) {
      const admitted = await admitRoute(route, req.headers);
      const out = admitted.ok
        ? await answerRoute(route, {
            headers: req.headers,
            query: {},
            params: {},
            body: parseFormBody(await text(req)),
          })
        : admitted.response;
      res.writeHead(out.status, out.headers).end(out.body);
      return;
    }
    const auth = await provisioner.authenticate({ headers: req.headers });
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ sub: auth.user?.subject }));
  } catch (err) {
    const out = toHttpResponse(err);
    const reason = isJitProvisionError(err, 'invalid_token') ? err.reason : undefined;
    res.writeHead(out.status, out.headers).end(JSON.stringify({ ...(out.body as object), reason }));
  }
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address !== null ? address.port : ''}`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
