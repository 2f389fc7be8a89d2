import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DATABASE_URL, openDatabase } from './env';
import { fmt, median, now, percentile, type Section } from './report';
import type { Batch, BatchDone } from './throughput-child';

const PROCESSES = 8;
const IN_FLIGHT = 4;
/** First logins per process per round. */
const PER_PROCESS = 250;
const ROUNDS = 5;

const child = fileURLToPath(new URL('./throughput-child.ts', import.meta.url));

function once<T>(proc: ChildProcess, match: (message: unknown) => message is T): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (!match(message)) return;
      proc.off('message', onMessage);
      proc.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code: number | null) => reject(new Error(`throughput child exited (${code})`));
    proc.on('message', onMessage);
    proc.once('exit', onExit);
  });
}
const isReady = (m: unknown): m is 'ready' => m === 'ready';
const isDone = (m: unknown): m is BatchDone => typeof m === 'object' && m !== null && 'latencies' in m;

/** One batch in every process at once; wall from the first send to the last answer. */
async function round(procs: ChildProcess[], kind: Batch['kind'], prefix: string) {
  const start = now();
  const done = await Promise.all(
    procs.map((proc, p) => {
      const answer = once(proc, isDone);
      proc.send({ kind, prefix: `${prefix}-p${p}`, count: PER_PROCESS } satisfies Batch);
      return answer;
    }),
  );
  const wall = now() - start;
  const latencies = done.flatMap((d) => d.latencies);
  return {
    wall,
    rate: (latencies.length * 1000) / wall,
    latencies,
    errors: done.reduce((n, d) => n + d.errors, 0),
    created: done.reduce((n, d) => n + d.created, 0),
  };
}

/** Benchmark 14: first-login throughput across processes on Postgres vs the raw insert at the same concurrency. */
export async function throughputBenchmark(): Promise<Section> {
  const db = await openDatabase(2);
  const procs = Array.from({ length: PROCESSES }, () =>
    fork(child, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, DATABASE_URL, TP_SCHEMA: db.schema, TP_IN_FLIGHT: String(IN_FLIGHT) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  try {
    await Promise.all(procs.map((proc) => once(proc, isReady)));
    const run = randomUUID().slice(0, 8);
    const ours: Array<Awaited<ReturnType<typeof round>>> = [];
    const raw: Array<Awaited<ReturnType<typeof round>>> = [];
    const ratios: number[] = [];
    for (let r = 0; r < ROUNDS + 1; r++) {
      // Alternating order, so drift during a round pair favours neither side.
      const pair =
        r % 2 === 0
          ? [await round(procs, 'ours', `tp-${run}-${r}`), await round(procs, 'raw', `tpraw-${run}-${r}`)]
          : [
              await round(procs, 'raw', `tpraw-${run}-${r}`),
              await round(procs, 'ours', `tp-${run}-${r}`),
            ].reverse();
      const [o, w] = pair as [Awaited<ReturnType<typeof round>>, Awaited<ReturnType<typeof round>>];
      if (r === 0) continue; // warm-up: statements prepared, JIT
      ours.push(o);
      raw.push(w);
      ratios.push(o.rate / w.rate);
    }
    const logins = PROCESSES * PER_PROCESS * (ROUNDS + 1);
    const { rows } = await db.pool.query<{ n: number; identities: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT (issuer, subject))::int AS identities
       FROM ${db.table} WHERE subject LIKE $1`,
      [`tp-${run}-%`],
    );
    const check = rows[0] ?? { n: -1, identities: -1 };
    const errors = ours.reduce((n, o) => n + o.errors, 0);
    const created = ours.reduce((n, o) => n + o.created, 0);
    const row = (label: string, results: typeof ours) => {
      const latencies = results.flatMap((x) => x.latencies);
      return {
        calls: label,
        'logins/s (median)': Math.round(median(results.map((x) => x.rate))),
        'p50 ms': percentile(latencies, 50),
        'p99 ms': percentile(latencies, 99),
      };
    };
    const throughputRatio = median(ratios);
    return {
      title: '14. Throughput: first logins across processes',
      rows: [
        row(
          `ensureUserExists, new users (${PROCESSES} processes × ${IN_FLIGHT} in flight, caches off)`,
          ours,
        ),
        row(`raw INSERT … ON CONFLICT DO NOTHING RETURNING id (${PROCESSES} × ${IN_FLIGHT})`, raw),
      ],
      targets: [
        {
          name: 'first-login throughput ÷ raw insert, 8 processes × 4 in flight',
          measured: fmt(throughputRatio),
          goal: '≥ 0.50',
          pass: throughputRatio >= 0.5,
        },
        {
          name: 'one row per identity, every login answered, each created once',
          measured: `${check.n} rows / ${check.identities} identities / ${logins} logins (warm-up round included), ${created} created in the ${ROUNDS} measured rounds, ${errors} errors`,
          goal: `${logins} each, 0 errors`,
          pass:
            check.n === logins &&
            check.identities === logins &&
            errors === 0 &&
            created === PROCESSES * PER_PROCESS * ROUNDS,
        },
      ],
      notes: [
        `${PROCESSES} forked Node processes, each with its own pg pool of ${IN_FLIGHT} and its own provisioner (userCache and tokenCache off), ${PER_PROCESS} new identities per process per round; ${ROUNDS} rounds after a warm-up, ours and raw alternating in order. logins/s = all calls of a round ÷ its wall time (first batch sent to last answer); the ratio is the median of the rounds' own ratios; latencies are per call, over all rounds.`,
      ],
    };
  } finally {
    await Promise.all(
      procs.map(
        (proc) =>
          new Promise<void>((resolve) => {
            if (proc.exitCode !== null) return resolve();
            proc.once('exit', () => resolve());
            proc.send('stop');
          }),
      ),
    );
    await db.close();
  }
}
