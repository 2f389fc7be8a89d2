import { createEdgeApp } from './edge-app';

// Bun (`bun src/serve.ts`) or Deno (`deno run --allow-net --allow-env src/serve.ts`): the runtime's own
// server, so the adapter reads the client address from Bun's `requestIP` or Deno's `remoteAddr`.
interface Runtime {
  Bun?: { serve(o: { port: number; hostname: string; fetch: unknown }): { port: number } };
  Deno?: {
    serve(o: { port: number; hostname: string }, h: unknown): { addr: { port: number } };
    env: { get(name: string): string | undefined };
  };
  process?: { env: Record<string, string | undefined> };
}
const runtime = globalThis as Runtime;
const env = (name: string) => runtime.Deno?.env.get(name) ?? runtime.process?.env[name];
const required = (name: string) => {
  const value = env(name);
  if (value === undefined || value === '') throw new Error(`set ${name}`);
  return value;
};

const app = createEdgeApp({
  ISSUER: required('ISSUER'),
  AUDIENCE: required('AUDIENCE'),
  ADMIN_SUBJECT: env('ADMIN_SUBJECT') ?? '',
});
const port = Number(env('PORT') ?? 3000);
const hostname = env('HOST') ?? '127.0.0.1';
if (runtime.Bun) {
  const server = runtime.Bun.serve({ port, hostname, fetch: app.fetch });
  console.log(`listening on http://${hostname}:${server.port} (Bun)`);
} else if (runtime.Deno) {
  // Deno.serve prints its own "Listening on" line.
  runtime.Deno.serve({ port, hostname }, app.fetch);
} else {
  throw new Error('src/serve.ts runs on Bun or Deno; on Node, `pnpm start` (src/main.ts)');
}
