/**
 * Server CPU per request of a Fastify route, bare vs `jitProvision` on a cache hit: each server pinned to
 * core 0 (`taskset`, when present), autocannon in this process on core 1, 32 connections, 1 s warm-up then
 * 4 s measured, 3 interleaved rounds, median. `PROFILE=1` runs the servers under `node --cpu-prof`
 * (profiles in bench/profile/out). Not part of run-all: http.ts is the full benchmark; this one isolates
 * the cache-hit cost in one framework for profiling. Run: `npx tsx profile/fastify-cpu.ts`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { AUDIENCE, openIssuer } from '../src/env';
import { median } from '../src/report';

const here = fileURLToPath(new URL('.', import.meta.url));
const pin = existsSync('/usr/bin/taskset') ? ['taskset', '-c', '0'] : [];
const idp = await openIssuer();
const token = await idp.mint(
  { sub: 'user-1', email: 'user-1@example.com' },
  { audience: AUDIENCE, expiresIn: 3600 },
);

function start(variant: string): Promise<{ child: ChildProcess; port: number }> {
  const args = [
    ...(process.env['PROFILE'] ? ['--cpu-prof', `--cpu-prof-dir=${here}out`] : []),
    '--import',
    'tsx',
    `${here}fastify-server.ts`,
    variant,
    idp.issuer,
    AUDIENCE,
  ];
  const [cmd, ...rest] = [...pin, process.execPath, ...args] as [string, ...string[]];
  const child = spawn(cmd, rest, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve) =>
    child.once('message', (m) => resolve({ child, port: (m as { port: number }).port })),
  );
}

const load = (port: number, seconds: number) =>
  autocannon({
    url: `http://127.0.0.1:${port}/me`,
    connections: 32,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
  });

const samples: Record<string, number[]> = { bare: [], ours: [] };
for (let round = 0; round < 3; round++) {
  for (const variant of ['bare', 'ours']) {
    const { child, port } = await start(variant);
    await load(port, 1);
    child.send('start');
    const result = await load(port, 4);
    const report = new Promise<{ cpuUs: number; ok: number }>((resolve) =>
      child.once('message', (m) => resolve(m as { cpuUs: number; ok: number })),
    );
    child.send('stop');
    const { cpuUs, ok } = await report;
    child.send('exit');
    await new Promise((resolve) => child.once('exit', resolve));
    samples[variant]?.push(cpuUs / Math.max(1, ok));
    console.log(
      `${variant}: ${(cpuUs / ok).toFixed(1)} µs/req server CPU, ${result.requests.average} req/s, non-2xx ${result.non2xx}`,
    );
  }
}
const bare = median(samples['bare'] ?? []);
const ours = median(samples['ours'] ?? []);
console.log(
  `median: bare ${bare.toFixed(1)} µs/req, ours ${ours.toFixed(1)} µs/req, bare ÷ ours ${(bare / ours).toFixed(2)}`,
);
await idp.close();
