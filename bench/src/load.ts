import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The machine-load guard of every benchmark: a figure taken while something else ran is not a figure. Before a
 * benchmark the 1-minute load average must be at most `BENCH_MAX_LOAD` (1.5; the runner waits up to
 * `BENCH_LOAD_WAIT_S`, 300 s, for it to fall, since the previous benchmark's own load decays with it); during
 * it, the CPU that other processes used, in cores, must stay at most the same bound. The database servers'
 * processes work for the benchmark, so they count as ours.
 */
export const MAX_LOAD = Number(process.env['BENCH_MAX_LOAD'] ?? 1.5);
const WAIT_S = Number(process.env['BENCH_LOAD_WAIT_S'] ?? 300);
/** The bound figures written to RESULTS.md were taken under; a looser one is for investigation only. */
export const REPORTABLE_LOAD = 1.5;

// USER_HZ: the unit of /proc's CPU times; 100 on every Linux this runs on (sysconf is not reachable from Node).
const TICKS_PER_S = 100;
const DB_SERVERS = new Set(['postgres', 'mariadbd', 'mysqld', 'pgbouncer']);

interface Reading {
  at: number;
  /** Busy CPU ticks of the whole machine (user, nice, system, irq, softirq). */
  busy: number;
  /** Ticks of this process and its reaped children, and of the database servers. */
  ours: number;
}

const statFields = (text: string) => text.slice(text.lastIndexOf(')') + 2).split(' ');

function read(): Reading | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]?.trim().split(/\s+/) ?? [];
    const [user, nice, system, , , irq, softirq] = cpu.slice(1).map(Number) as number[];
    const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0);
    // Fields 14–17 of /proc/<pid>/stat (utime, stime, cutime, cstime); after the comm, index 11–14.
    const times = (fields: string[]) =>
      Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    let ours = times(statFields(readFileSync('/proc/self/stat', 'utf8')));
    const children = new Map<number, number[]>();
    const self = process.pid;
    const all: { pid: number; ppid: number; comm: string; ticks: number }[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let text: string;
      try {
        text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      const fields = statFields(text);
      const pid = Number(entry);
      const ppid = Number(fields[1]);
      all.push({ pid, ppid, comm, ticks: times(fields) });
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    }
    // Live descendants (servers, load generators) are ours; reaped ones are already in cutime/cstime.
    const mine = new Set<number>();
    const stack = [...(children.get(self) ?? [])];
    while (stack.length > 0) {
      const pid = stack.pop() as number;
      mine.add(pid);
      stack.push(...(children.get(pid) ?? []));
    }
    for (const p of all) if (mine.has(p.pid) || DB_SERVERS.has(p.comm)) ours += p.ticks;
    return { at: performance.now(), busy, ours };
  } catch {
    return undefined; // not Linux: the load average alone
  }
}

/** What the guard saw around one benchmark. */
export interface LoadWindow {
  before: number;
  after: number;
  /** Average CPU, in cores, that processes other than the benchmark's and the database's used during it. */
  others: number | undefined;
  /** Why the figures are not reported, if they are not. */
  refused: string | undefined;
}

const fmtLoad = (n: number) => n.toFixed(2);

/** Waits for a quiet machine (up to the wait bound); the load average it started at. */
export async function waitForQuiet(log: (line: string) => void): Promise<number> {
  const deadline = performance.now() + WAIT_S * 1000;
  let load = loadavg()[0] ?? 0;
  let told = false;
  while (load > MAX_LOAD && performance.now() < deadline) {
    if (!told) log(`(load average ${fmtLoad(load)} > ${MAX_LOAD}: waiting up to ${WAIT_S} s for it to fall)`);
    told = true;
    await sleep(2000);
    load = loadavg()[0] ?? 0;
  }
  return load;
}

/**
 * Runs `task` inside the guard: the load before (after waiting for it to fall), the load after, and the other
 * processes' CPU during it. A window whose load before, or whose others' CPU, exceeds the bound is refused.
 */
export async function guarded<T>(
  task: () => Promise<T>,
  log: (line: string) => void,
): Promise<{ value: T; load: LoadWindow }> {
  const before = await waitForQuiet(log);
  const start = read();
  const value = await task();
  const end = read();
  const after = loadavg()[0] ?? 0;
  const others =
    start === undefined || end === undefined
      ? undefined
      : Math.max(0, end.busy - start.busy - (end.ours - start.ours)) /
        TICKS_PER_S /
        ((end.at - start.at) / 1000);
  const refused =
    before > MAX_LOAD
      ? `load average ${fmtLoad(before)} before the run (bound ${MAX_LOAD})`
      : others !== undefined && others > MAX_LOAD
        ? `other processes used ${fmtLoad(others)} cores during the run (bound ${MAX_LOAD})`
        : undefined;
  return { value, load: { before, after, others, refused } };
}

/** One line for the printed section: the machine's load around the benchmark. */
export function loadLine(load: LoadWindow): string {
  const others = load.others === undefined ? 'n/a' : `${fmtLoad(load.others)} cores`;
  return `load average ${fmtLoad(load.before)} before, ${fmtLoad(load.after)} after (the benchmark's own work included); other processes during it: ${others}${load.refused === undefined ? '' : ` — REFUSED: ${load.refused}`}`;
}
