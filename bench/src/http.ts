import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { AUDIENCE, openIssuer } from './env';
import type { LoadRequest, LoadResult } from './http-load';
import type { Framework, ServerConfig, Variant } from './http-server';
import { fmt, median, ratio, type Section } from './report';

// BENCH_FRAMEWORKS=fastify,hono narrows the run while investigating one framework.
const FRAMEWORKS = (process.env['BENCH_FRAMEWORKS']?.split(',') ?? [
  'express',
  'fastify',
  'hono',
]) as Framework[];
for (const framework of FRAMEWORKS) {
  if (!['express', 'fastify', 'hono'].includes(framework)) {
    throw new Error(`BENCH_FRAMEWORKS: unknown framework '${framework}' (express, fastify, hono)`);
  }
}
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const DURATION_S = Number(process.env['BENCH_DURATION'] ?? 4);
const WARMUP_S = Number(process.env['BENCH_WARMUP'] ?? 1);
// Every figure is the median of at least 5 interleaved rounds: with 3, one slow phase of the shared host
// decided the median too often (issue 33). Fewer (for a quick look) are flagged in the notes.
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
/** Load runs this long before the window opens and after it closes: connection setup and teardown stay out. */
const EDGE_MS = 200;
/** Caches off is informational (one round): a shorter window keeps the whole run near two minutes. */
const NOCACHE_WINDOW_S = Math.min(2, DURATION_S);
const SUBJECT = 'user-0';
const SERVER_CORE = 0;
const LOAD_CORE = 1;
/** Interleaved every round; `ours-nocache` is informational and measured in the first round only. */
// BENCH_TRACE=1 prints each phase's wall time to stderr (where a slow run spends its time).
const trace = process.env['BENCH_TRACE']
  ? (what: string) => console.error(`[http ${(performance.now() / 1000).toFixed(1)} s] ${what}`)
  : () => {};
// BENCH_HASH=1 adds `hash` (informational): a middleware that only hashes the token, the floor under ours.
const HASH = process.env['BENCH_HASH'] === '1';
const COMPARED: Variant[] = ['bare', 'ours', 'empty', ...(HASH ? (['hash'] as const) : []), 'peer'];
const PEERS: Record<Framework, string> = {
  express: 'express-oauth2-jwt-bearer',
  fastify: '@fastify/jwt + get-jwks',
  hono: 'hono/jwk',
};

interface Window {
  cpuUs: number;
  served: number;
  ms: number;
}

interface Run {
  /** Server CPU µs per 2xx answer over the window. */
  cpu: number;
  rps: number;
  failed: number;
}

/** A child process we started: every one is in `children` until it exits, and killed on the way out. */
interface Child {
  proc: ChildProcess;
  /** Send `message` and wait for the first answer `accept` takes; rejects on exit or after `timeoutMs`. */
  ask<T>(message: unknown, accept: (m: unknown) => boolean, timeoutMs: number): Promise<T>;
}

const children = new Set<ChildProcess>();
const killAll = () => {
  for (const proc of children) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
};
// Even when the run throws or the parent exits early, no server or load generator is left behind.
process.once('exit', killAll);

/** `taskset` present and at least two cores: pin server and load generator apart; otherwise run unpinned. */
const pinning: { on: boolean; why: string } = (() => {
  if (availableParallelism() < 2) return { on: false, why: 'fewer than 2 cores' };
  const probe = spawnSync('taskset', ['-c', String(LOAD_CORE), 'true'], { stdio: 'ignore' });
  if (probe.error !== undefined || probe.status !== 0) return { on: false, why: 'taskset not available' };
  return { on: true, why: '' };
})();

/**
 * Pin a started process, all its threads included, to `core`. Done once it is ready rather than at exec:
 * start-ups (~2 s of CPU each under tsx) then run on both cores and in parallel. Threads started later
 * (the libuv pool is created on first use) inherit the affinity of the thread that creates them.
 */
function pin(proc: ChildProcess, core: number): void {
  if (!pinning.on || proc.pid === undefined) return;
  const result = spawnSync('taskset', ['-a', '-p', '-c', String(core), String(proc.pid)], {
    stdio: 'ignore',
  });
  if (result.status !== 0) throw new Error(`taskset could not pin pid ${proc.pid} to core ${core}`);
}

function start(script: string, args: string[]): Child {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const proc = fork(path, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: process.execArgv,
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  const ask = <T>(message: unknown, accept: (m: unknown) => boolean, timeoutMs: number) =>
    new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        proc.off('message', onMessage);
        proc.off('exit', onExit);
      };
      const onMessage = (m: unknown) => {
        if (typeof m === 'object' && m !== null && 'error' in m) {
          done();
          reject(new Error(`${script}: ${String((m as { error: unknown }).error)}`));
        } else if (accept(m)) {
          done();
          resolve(m as T);
        }
      };
      const onExit = (code: number | null) => {
        done();
        reject(new Error(`${script} exited (${code}) before answering`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${script} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      proc.on('message', onMessage);
      proc.once('exit', onExit);
      if (message !== undefined) proc.send(message as object);
    });
  return { proc, ask };
}

const has = (key: string) => (m: unknown) => typeof m === 'object' && m !== null && key in m;

async function startServer(config: ServerConfig): Promise<Child & { port: number }> {
  const child = start('./http-server.ts', [JSON.stringify(config)]);
  const { port } = await child.ask<{ port: number }>(undefined, has('port'), 30_000);
  pin(child.proc, SERVER_CORE);
  return { ...child, port };
}

async function stop(child: Child): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  const exited = new Promise((resolve) => child.proc.once('exit', resolve));
  child.proc.send('exit');
  await Promise.race([exited, sleep(2_000)]);
  if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
}

/** One request outside any window: the variant must answer 200 with `{ sub }` before it is measured. */
async function check(port: number, token: string, label: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/me`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200 || Object.keys(body).join() !== 'sub' || typeof body['sub'] !== 'string') {
    throw new Error(`${label} answered ${res.status} ${JSON.stringify(body)}; expected 200 { sub }`);
  }
}

function load(loader: Child, port: number, token: string, durationSec: number): Promise<LoadResult> {
  const request: LoadRequest = { port, token, connections: CONNECTIONS, durationSec };
  return loader.ask<LoadResult>(request, has('ok2xx'), durationSec * 1000 + 15_000);
}

/**
 * Drive `server` for lead-in + window + EDGE in one autocannon run; the server measures its own CPU over
 * the window only. A server's first run has the warm-up as its lead-in (one run instead of two: each
 * autocannon start costs ~0.4 s of wall time on this machine).
 */
async function measure(
  server: Child & { port: number },
  loader: Child,
  token: string,
  leadMs: number,
  windowS: number,
): Promise<Run> {
  const driven = load(loader, server.port, token, (leadMs + EDGE_MS) / 1000 + windowS);
  await sleep(leadMs);
  server.proc.send('start');
  await sleep(windowS * 1000);
  const window = await server.ask<Window>('stop', has('cpuUs'), 5_000);
  const result = await driven;
  if (window.served === 0) throw new Error(`no 2xx answers in the window (port ${server.port})`);
  return {
    cpu: window.cpuUs / window.served,
    rps: window.served / (window.ms / 1000),
    failed: result.failed,
  };
}

const spread = (values: number[], digits = 1) =>
  `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`;

/**
 * Benchmark 1: server CPU per authenticated request on a cache hit, per framework, against the bare
 * handler and the framework's usual JWT middleware (issue 18's method: see README.md).
 */
export async function httpBenchmark(): Promise<Section> {
  const idp = await openIssuer();
  const token = await idp.mint(
    { sub: SUBJECT, email: `${SUBJECT}@example.com` },
    { audience: AUDIENCE, expiresIn: 3600 },
  );
  const rows: Section['rows'] = [];
  const targets: Section['targets'] = [];
  const notes: string[] = [];
  let loader: Child | undefined;
  try {
    loader = start('./http-load.ts', []);
    await loader.ask(undefined, has('ready'), 30_000);
    pin(loader.proc, LOAD_CORE);
    for (const framework of FRAMEWORKS) {
      const variants: Variant[] = [
        'bare',
        'ours',
        'ours-nocache',
        'empty',
        ...(HASH ? (['hash'] as const) : []),
        'peer',
      ];
      const servers = new Map<Variant, Child & { port: number }>();
      const runs = new Map<Variant, Run[]>(variants.map((v) => [v, []]));
      try {
        const started = variants.map((variant) =>
          startServer({
            framework,
            variant,
            issuer: idp.issuer,
            audience: AUDIENCE,
            subject: SUBJECT,
          }).then((server) => servers.set(variant, server)),
        );
        // allSettled first: a start-up that fails must not leave its siblings running unrecorded.
        const outcomes = await Promise.allSettled(started);
        for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
        trace(`${framework}: servers started`);
        for (const [variant, server] of servers) await check(server.port, token, `${framework} ${variant}`);
        for (let round = 0; round < ROUNDS; round++) {
          // Odd rounds run in reverse order, so a machine that drifts during a run slows no variant more than another.
          const order = round === 0 ? variants : round % 2 === 1 ? [...COMPARED].reverse() : COMPARED;
          for (const variant of order) {
            const server = servers.get(variant) as Child & { port: number };
            const lead = round === 0 ? WARMUP_S * 1000 : EDGE_MS;
            const window = variant === 'ours-nocache' ? NOCACHE_WINDOW_S : DURATION_S;
            (runs.get(variant) as Run[]).push(await measure(server, loader, token, lead, window));
            trace(`${framework} ${variant}: round ${round + 1} measured`);
          }
        }
      } finally {
        await Promise.all([...servers.values()].map(stop));
        trace(`${framework}: servers stopped`);
      }
      const cpu = (v: Variant) => (runs.get(v) as Run[]).map((r) => r.cpu);
      const rps = (v: Variant) => Math.round(median((runs.get(v) as Run[]).map((r) => r.rps)));
      const bare = median(cpu('bare'));
      const ours = median(cpu('ours'));
      const peer = median(cpu('peer'));
      const empty = median(cpu('empty'));
      // Rounds are interleaved, so each round's own ratio is meaningful: its spread shows how still it holds.
      const perRound = (num: Variant, den: Variant) => {
        const values = cpu(num).map((n, i) => ratio(n, cpu(den)[i] as number));
        return `(${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`;
      };
      rows.push({
        framework,
        'bare µs/req': spread(cpu('bare')),
        'empty middleware µs/req': spread(cpu('empty')),
        'ours µs/req': spread(cpu('ours')),
        'empty ÷ ours': `${fmt(ratio(empty, ours))} ${perRound('empty', 'ours')}`,
        'bare ÷ ours': `${fmt(ratio(bare, ours))} ${perRound('bare', 'ours')}`,
        'bare ÷ empty': `${fmt(ratio(bare, empty))} ${perRound('bare', 'empty')}`,
        'ours caches off µs/req': spread(cpu('ours-nocache')),
        ...(HASH
          ? {
              'hash only µs/req': spread(cpu('hash')),
              'empty ÷ hash only': `${fmt(ratio(empty, median(cpu('hash'))))} ${perRound('empty', 'hash')}`,
            }
          : {}),
        'peer µs/req': spread(cpu('peer')),
        'peer ÷ ours': fmt(ratio(peer, ours)),
        [`req/s ${variants.map((v) => (v === 'ours-nocache' ? 'off' : v)).join(' / ')}`]: variants
          .map(rps)
          .join(' / '),
      });
      for (const variant of variants) {
        const failed = (runs.get(variant) as Run[]).reduce((n, r) => n + r.failed, 0);
        if (failed > 0) notes.push(`${framework} ${variant}: ${failed} non-2xx answers or socket errors`);
      }
      // Ours against the framework's own empty middleware, same run: what the adapter adds over having any
      // middleware at all (bare ÷ empty, the framework's share, is printed for information).
      targets.push({
        name: `${framework}: empty middleware ÷ ours, server CPU per request`,
        measured: fmt(ratio(empty, ours)),
        goal: '≥ 0.95',
        pass: ratio(empty, ours) >= 0.95,
      });
    }
  } finally {
    if (loader !== undefined) await stop(loader);
    killAll();
    await idp.close();
  }
  notes.push(
    `Server CPU µs per 2xx answer: process.cpuUsage() of the server process (all its threads) over a ${DURATION_S} s window opened and closed over IPC, divided by the 2xx answers sent in it. Median of ${ROUNDS} interleaved rounds (bare, ours, empty, peer, then the reverse, …), spread min–max in brackets; caches off measured in the first round only, over ${NOCACHE_WINDOW_S} s (informational). Ratio brackets: each round's own ratio. Target: empty ÷ ours (the same framework's empty middleware, same run); bare ÷ ours and bare ÷ empty for information.`,
    `Load: autocannon, ${CONNECTIONS} connections, no pipelining, one valid RS256 token, ${WARMUP_S} s warm-up per server (the lead-in of its first run), ${EDGE_MS} ms of load before and after every other window. ours = jitProvision with default options on store-memory (user pre-provisioned); empty = an empty middleware (the framework's cost of having any middleware, the baseline of the target; bare ÷ empty is the ceiling for bare ÷ ours); peers: ${FRAMEWORKS.map((f) => `${f} → ${PEERS[f]}`).join(', ')}; all verify against the dev issuer's JWKS on loopback.`,
    ...(ROUNDS < 5 ? [`BENCH_ROUNDS=${ROUNDS}: fewer than the method's 5 rounds, a quick look only.`] : []),
    pinning.on
      ? `Each server pinned to core ${SERVER_CORE}, the load generator to core ${LOAD_CORE} (taskset).`
      : `NOT pinned (${pinning.why}): server and load generator share the cores, so figures move more.`,
  );
  return { title: '1. HTTP: server CPU per authenticated request (cache hit)', rows, targets, notes };
}
