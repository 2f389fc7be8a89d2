/**
 * Where a framework's server spends its CPU on a cache hit: benchmark 1's servers (src/http-server.ts, same
 * routes and variants), each under `node --cpu-prof` (profiles in bench/profile/out), pinned to core 0 with
 * autocannon on core 1, 32 connections, a 1 s warm-up, then a 6 s window whose server CPU per 2xx is printed;
 * then a per-function self-time table (µs per request) of each profile, ours next to empty. Not part of
 * run-all. Run: `PROFILE_FRAMEWORK=hono npx tsx profile/http-cpu.ts` (express, fastify, hono;
 * `PROFILE_VARIANTS=ours,empty` by default).
 */
import { fork, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { AUDIENCE, openIssuer } from '../src/env';
import type { Framework, ServerConfig, Variant } from '../src/http-server';

const framework = (process.env['PROFILE_FRAMEWORK'] ?? 'hono') as Framework;
const variants = (process.env['PROFILE_VARIANTS'] ?? 'ours,empty').split(',') as Variant[];
const WINDOW_S = Number(process.env['PROFILE_WINDOW'] ?? 6);
const here = fileURLToPath(new URL('.', import.meta.url));
const taskset = existsSync('/usr/bin/taskset');
const idp = await openIssuer();
const token = await idp.mint(
  { sub: 'user-0', email: 'user-0@example.com' },
  { audience: AUDIENCE, expiresIn: 3600 },
);

const load = (port: number, seconds: number) =>
  autocannon({
    url: `http://127.0.0.1:${port}/me`,
    connections: 32,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
  });

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function (name + file:line), µs per served request. */
function selfTimes(profile: Profile, served: number): Map<string, number> {
  const frameOf = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const out = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = frameOf.get(id);
    if (frame === undefined) return;
    const file = frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/packages\//, '');
    const name = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    out.set(name, (out.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / served);
  });
  return out;
}

const tables = new Map<string, Map<string, number>>();
for (const [index, variant] of variants.entries()) {
  const label = `${variant}#${index + 1}`;
  const dir = `${here}out/${framework}-${variant}-${index + 1}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const config: ServerConfig = {
    framework,
    variant,
    issuer: idp.issuer,
    audience: AUDIENCE,
    subject: 'user-0',
  };
  const child = fork(
    fileURLToPath(new URL('../src/http-server.ts', import.meta.url)),
    [JSON.stringify(config)],
    {
      execArgv: [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${dir}`],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const port = await new Promise<number>((resolve) =>
    child.once('message', (m) => resolve((m as { port: number }).port)),
  );
  if (taskset && child.pid !== undefined) {
    spawnSync('taskset', ['-a', '-p', '-c', '0', String(child.pid)]);
    spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)]);
  }
  await load(port, 1);
  const driven = load(port, WINDOW_S + 0.4);
  await new Promise((r) => setTimeout(r, 200));
  child.send('start');
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
  const window = await new Promise<{ cpuUs: number; served: number }>((resolve) => {
    child.once('message', (m) => resolve(m as { cpuUs: number; served: number }));
    child.send('stop');
  });
  await driven;
  child.send('exit');
  await new Promise((resolve) => child.once('exit', resolve));
  console.log(
    `${framework} ${label}: ${(window.cpuUs / window.served).toFixed(1)} µs/req server CPU (profiled)`,
  );
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no profile in ${dir}`);
  const profile = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as Profile;
  // The profile spans the whole run (start-up and warm-up too): each function's share of the busy samples,
  // times the window's CPU per request, is close enough for a ranking.
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const busy = profile.samples.reduce(
    (sum, id, i) => (idle.has(id) ? sum : sum + (profile.timeDeltas[i] ?? 0)),
    0,
  );
  const table = selfTimes(profile, busy / (window.cpuUs / window.served));
  for (const name of [...table.keys()]) if (name.startsWith('(idle)')) table.delete(name);
  tables.set(label, table);
}
await idp.close();

const names = new Set<string>();
for (const table of tables.values()) for (const name of table.keys()) names.add(name);
const rows = [...names]
  .map((name) => ({ name, values: [...tables.values()].map((t) => t.get(name) ?? 0) }))
  .sort((a, b) => Math.max(...b.values) - Math.max(...a.values))
  .slice(0, Number(process.env['PROFILE_TOP'] ?? 45));
console.log(`self µs/req: ${[...tables.keys()].join(' | ')}`);
for (const { name, values } of rows)
  console.log(`${values.map((v) => v.toFixed(2).padStart(6)).join(' ')}  ${name}`);
