import { createProvisioner } from '@jit-provision/core';
import { createDevIssuer } from '@jit-provision/core/dev';
import { createPostgresStore } from '@jit-provision/store-postgres';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { AUDIENCE, openDatabase, openIssuer, settle } from './env';
import { fmt, now, ratio, type Section } from './report';

const N = 1_000;

/** Benchmark 5: rejected tokens cost no database query and about what a raw verify costs. */
export async function rejectedBenchmark(): Promise<Section> {
  const idp = await openIssuer();
  const stranger = await createDevIssuer();
  const db = await openDatabase(4);
  const rows: Section['rows'] = [];
  const targets: Section['targets'] = [];
  try {
    const provisioner = createProvisioner({
      store: createPostgresStore({ pool: db.pool, schema: db.schema }),
      issuers: [{ issuer: idp.issuer, audience: AUDIENCE }],
    });
    const jwks = createRemoteJWKSet(new URL(`${idp.issuer}/jwks`));
    const valid = await idp.mint({ sub: 'warm' }, { audience: AUDIENCE });
    await provisioner.authenticate({ headers: { authorization: `Bearer ${valid}` } }); // fetch JWKS, create 'warm'
    await jwtVerify(valid, jwks, { issuer: idp.issuer, audience: AUDIENCE });

    const tamper = (token: string) => {
      const [h, p, s] = token.split('.') as [string, string, string];
      return `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    };
    const many = (n: number, make: (i: number) => Promise<string>) =>
      Promise.all(Array.from({ length: n }, (_, i) => make(i)));
    const kinds: { kind: string; tokens: string[] }[] = [
      {
        kind: 'bad signature',
        tokens: (await many(50, (i) => idp.mint({ sub: `s${i}` }, { audience: AUDIENCE }))).map(tamper),
      },
      {
        kind: 'expired',
        tokens: await many(50, (i) =>
          idp.mint({ sub: `e${i}`, exp: Math.floor(Date.now() / 1000) - 3600 }, { audience: AUDIENCE }),
        ),
      },
      {
        kind: 'wrong audience',
        tokens: await many(50, (i) => idp.mint({ sub: `a${i}` }, { audience: 'another-api' })),
      },
      {
        kind: 'untrusted issuer',
        tokens: await many(50, (i) => stranger.mint({ sub: `u${i}` }, { audience: AUDIENCE })),
      },
    ];

    db.resetQueries();
    let queriesSeen = 0;
    let allRatios: number[] = [];
    for (const { kind, tokens } of kinds) {
      const ours = async () => {
        const start = now();
        for (let i = 0; i < N; i++) {
          const token = tokens[i % tokens.length] as string;
          try {
            await provisioner.authenticate({ headers: { authorization: `Bearer ${token}` } });
            throw new Error(`${kind} was accepted`);
          } catch (err) {
            if ((err as { code?: string }).code !== 'invalid_token') throw err;
          }
        }
        return ((now() - start) * 1000) / N;
      };
      const raw = async () => {
        const start = now();
        for (let i = 0; i < N; i++) {
          const authorization = `Bearer ${tokens[i % tokens.length]}`;
          try {
            await jwtVerify(authorization.slice(7), jwks, { issuer: idp.issuer, audience: AUDIENCE });
            throw new Error(`${kind} was accepted`);
          } catch (err) {
            if ((err as Error).message.endsWith('was accepted')) throw err;
          }
        }
        return ((now() - start) * 1000) / N;
      };
      await ours();
      await raw();
      const a: number[] = [];
      const b: number[] = [];
      for (let r = 0; r < 5; r++) {
        await settle();
        a.push(await ours());
        await settle();
        b.push(await raw());
      }
      const r = ratio(Math.min(...a), Math.min(...b));
      allRatios.push(r);
      queriesSeen = db.queries();
      rows.push({
        rejection: kind,
        'ours µs': Math.min(...a),
        'raw jwtVerify µs': Math.min(...b),
        ratio: fmt(r),
        'db queries': queriesSeen,
      });
    }
    allRatios = allRatios.filter((r) => Number.isFinite(r));
    const signature = ratio(Number(rows[0]?.['ours µs']), Number(rows[0]?.['raw jwtVerify µs']));
    targets.push({
      name: 'database queries for rejected tokens',
      measured: String(db.queries()),
      goal: '0',
      pass: db.queries() === 0,
    });
    targets.push({
      name: 'bad signature: ours ÷ raw jwtVerify',
      measured: fmt(signature),
      goal: '≤ 1.20',
      pass: signature <= 1.2,
    });
    const expired = ratio(Number(rows[1]?.['ours µs']), Number(rows[1]?.['raw jwtVerify µs']));
    targets.push({
      name: 'expired: ours ÷ raw jwtVerify',
      measured: fmt(expired),
      goal: '≤ 1.20',
      pass: expired <= 1.2,
    });
    return {
      title: '5. Rejected tokens',
      rows,
      targets,
      notes: [
        `${N} rejections per round, best of 5 alternating rounds; 'ours' is provisioner.authenticate (header parsing, cache lookup, verification, error mapping), 'raw' is jose jwtVerify alone.`,
        'Untrusted issuers and wrong audiences are refused before/after the signature check just as jose does; the untrusted-issuer raw column is jose failing the same token on its signature.',
      ],
    };
  } finally {
    await db.close();
    await stranger.close();
    await idp.close();
  }
}
