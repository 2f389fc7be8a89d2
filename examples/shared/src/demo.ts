// Framework-neutral demo wiring shared by every example: store, dev issuer, provisioner, invitations,
// the app's own data (todos) and the demo users. Each example adds only its framework's app and server.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  type CheckReport,
  createInvitationService,
  createProvisioner,
  type InvitationService,
  invitationRequired,
  type Policy,
  type Provisioner,
  type Store,
} from '@jit-provision/core';
import { createDevIssuer, type DevIssuer } from '@jit-provision/core/dev';
import { createMemoryStore } from '@jit-provision/store-memory';
import { DEMO_PASSWORD, type DevProvider, startDevProvider } from './dev-provider';

export const AUDIENCE = 'jit-provision-demo';

export interface Todo {
  id: string;
  title: string;
  done: boolean;
}

/** The app's own per-user data. First-login defaults come from an `onProvisioned` hook. */
export function createTodos() {
  const byUser = new Map<string, Todo[]>();
  return {
    list: (userId: string): Todo[] => byUser.get(userId) ?? [],
    add(userId: string, title: string): Todo {
      const todo = { id: randomUUID(), title, done: false };
      byUser.set(userId, [...(byUser.get(userId) ?? []), todo]);
      return todo;
    },
  };
}
export type Todos = ReturnType<typeof createTodos>;

/** Where users live: memory (default), PGlite in this process, or the Postgres at a URL. */
export type StoreChoice =
  | { kind: 'memory' }
  | { kind: 'pglite' }
  | { kind: 'postgres'; connectionString: string; schema?: string };

/**
 * `--pglite` / `JIT_STORE=pglite`; `--postgres` / `JIT_STORE=postgres` (needs `DATABASE_URL`); `JIT_STORE=memory`;
 * unset: `DATABASE_URL` when set, else memory.
 */
export function storeChoiceFrom(argv: readonly string[], env: NodeJS.ProcessEnv): StoreChoice {
  const asked = argv.includes('--pglite')
    ? 'pglite'
    : argv.includes('--postgres')
      ? 'postgres'
      : env['JIT_STORE'];
  const url = env['DATABASE_URL']?.trim();
  switch (asked) {
    case 'pglite':
      return { kind: 'pglite' };
    case 'memory':
      return { kind: 'memory' };
    case 'postgres':
      if (!url) {
        throw new Error(
          'the Postgres store needs DATABASE_URL: set DATABASE_URL=postgres://user@host:5432/db (or use --pglite)',
        );
      }
      return { kind: 'postgres', connectionString: url };
    case undefined:
    case '':
      return url ? { kind: 'postgres', connectionString: url } : { kind: 'memory' };
    default:
      throw new Error(`JIT_STORE must be memory, pglite or postgres, not ${JSON.stringify(asked)}`);
  }
}

/** `provisioner.check()`'s report as start-up lines: one per check, failures marked. */
export function formatCheckReport(report: CheckReport): string {
  const lines = report.checks.map(({ name, ok, detail }) => `  ${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
  return [`start-up check: ${report.ok ? 'ok' : 'FAILED'}`, ...lines].join('\n');
}

async function openStore(choice: StoreChoice): Promise<{ store: Store; close(): Promise<void> }> {
  if (choice.kind === 'memory') return { store: createMemoryStore(), close: async () => {} };
  // Loaded only when asked for, so the default demo needs neither pg nor PGlite.
  const { createPostgresStore, migrate } = await import('@jit-provision/store-postgres');
  let connectionString: string;
  let stopEmbedded = async () => {};
  if (choice.kind === 'pglite') {
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const db = await PGlite.create();
    const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1' });
    await server.start();
    connectionString = `postgres://postgres@${server.getServerConn()}/postgres`;
    stopEmbedded = async () => {
      await server.stop();
      await db.close();
    };
  } else {
    connectionString = choice.connectionString;
  }
  const store = createPostgresStore({
    connectionString,
    // PGlite serves one connection at a time.
    poolConfig: { max: choice.kind === 'pglite' ? 1 : 10 },
    // PGlite is one server session behind every socket: statements prepared on a connection the pool
    // closed when idle would still exist and clash with the next connection's.
    // And its single session cannot also hold a LISTEN connection for the change feed: with one process
    // and one pool there is no other instance to hear from anyway.
    ...(choice.kind === 'pglite' ? { preparedStatements: false, listen: false as const } : {}),
    ...(choice.kind === 'postgres' && choice.schema !== undefined ? { schema: choice.schema } : {}),
  });
  const close = async () => {
    await store.close();
    await stopEmbedded();
  };
  try {
    await migrate(store.pool, { schema: store.schema });
  } catch (err) {
    await close();
    throw err;
  }
  return { store, close };
}

export interface DemoOptions {
  store?: StoreChoice;
  /** Closed registration: first logins need a pending invitation for their verified email. */
  inviteOnly?: boolean;
  /** Port of the dev issuer; fixed, it keeps the issuer (part of every user's key) stable across restarts. */
  issuerPort?: number;
  /** Base URL of the app, for invitation links and the pages' sign-in redirects. */
  baseUrl?: string;
  /**
   * Start the dev OpenID Provider the pages sign in with (`false`: only the dev issuer). Its first logins always
   * need an invitation; its `ADMIN_EMAIL` user is seeded as admin.
   */
  provider?: false | { port?: number };
  /** The demo's stand-in for e-mail: print each invitation link sent (`pnpm demo` does). */
  printInvitations?: boolean;
}

export interface Demo {
  provisioner: Provisioner;
  invitations: InvitationService;
  todos: Todos;
  idp: DevIssuer;
  /** The dev OpenID Provider of the pages, unless `provider: false`. */
  op: DevProvider | undefined;
  /** The demo's mail: the last invitation link sent to each (normalised) email. */
  mailbox: Map<string, string>;
  store: StoreChoice['kind'];
  /** A token for `sub` from the dev issuer, as a real login would give the browser. */
  token(sub: string, profile?: { email?: string; name?: string }, expiresIn?: string): Promise<string>;
  close(): Promise<void>;
}

/** What each example's `createApp` needs from the demo: the SDK's two services and the app's own data. */
export type AppOptions = Pick<Demo, 'provisioner' | 'invitations' | 'todos'> & { op?: Demo['op'] };

/** The pre-provisioned admin: created before their first login, with a role no token could grant. */
export const ADMIN = { subject: 'admin', email: 'admin@example.com', name: 'Ada Admin' };

/** Whom the pages' seeded admin signs in as at the dev provider (any password works; the demo prints `demo`). */
export const ADMIN_EMAIL = 'admin@example.com';

/** Applies `inner` to first logins from `issuer` only. */
function forIssuer(issuer: string, inner: Policy): Policy {
  return {
    name: `${inner.name}@${issuer}`,
    beforeCreate: (context) => (context.identity.issuer === issuer ? inner.beforeCreate(context) : undefined),
  };
}

export async function createDemo(options: DemoOptions = {}): Promise<Demo> {
  const idp = await createDevIssuer(options.issuerPort === undefined ? {} : { port: options.issuerPort });
  const baseUrl = options.baseUrl ?? 'http://localhost:3000';
  let op: DevProvider | undefined;
  if (options.provider !== false) {
    try {
      op = await startDevProvider({
        audience: AUDIENCE,
        appOrigins: [new URL(baseUrl).origin],
        ...(options.provider?.port === undefined ? {} : { port: options.provider.port }),
      });
    } catch (err) {
      await idp.close();
      throw err;
    }
  }
  const choice = options.store ?? { kind: 'memory' };
  let opened: Awaited<ReturnType<typeof openStore>>;
  try {
    opened = await openStore(choice);
  } catch (err) {
    await idp.close();
    await op?.close();
    throw err;
  }
  const { store } = opened;
  const todos = createTodos();
  const mailbox = new Map<string, string>();
  const invitations = createInvitationService({
    store,
    secret: randomBytes(32),
    urlFor: (token) => `${baseUrl}/invite?token=${encodeURIComponent(token)}`,
    send: ({ email, url }) => {
      if (url === undefined) return;
      mailbox.set(email, url);
      // A dev stand-in for the e-mail an app would send; a real app never prints invitation links.
      if (options.printInvitations) console.log(`[demo mail] invitation for ${email}: ${url}`);
    },
  });
  const provisioner = createProvisioner({
    store,
    // Each dev issuer is another issuer (its URL has the port), so it gets its own username prefix.
    issuers: [
      { issuer: idp.issuer, audience: AUDIENCE, prefix: `dev-${new URL(idp.issuer).port}` },
      ...(op ? [{ issuer: op.issuer, audience: AUDIENCE, prefix: `op-${new URL(op.issuer).port}` }] : []),
    ],
    // The pages' provider is always invite-only: its sign-in is what the invitation page leads to.
    policies: options.inviteOnly
      ? [invitationRequired(invitations)]
      : op
        ? [forIssuer(op.issuer, invitationRequired(invitations))]
        : [],
    onProvisioned: [
      ({ user }) => {
        todos.add(user.id, 'Welcome! This todo was created on your first login');
        todos.add(user.id, 'Try GET /todos again: no second set of defaults');
      },
    ],
  });
  await provisioner.preProvision({ issuer: idp.issuer, ...ADMIN, role: 'admin' });
  if (op) {
    await provisioner.preProvision({
      issuer: op.issuer,
      subject: ADMIN_EMAIL,
      email: ADMIN_EMAIL,
      name: ADMIN.name,
      role: 'admin',
    });
  }

  return {
    provisioner,
    invitations,
    todos,
    idp,
    op,
    mailbox,
    store: choice.kind,
    token: (sub, profile = {}, expiresIn = '15m') =>
      idp.mint(
        {
          sub,
          email: profile.email ?? `${sub}@example.com`,
          email_verified: true,
          name: profile.name ?? sub,
        },
        { audience: AUDIENCE, expiresIn },
      ),
    async close() {
      await opened.close();
      await idp.close();
      await op?.close();
    },
  };
}

/** Ready-to-paste shell lines: tokens for a new user, a returning user and the admin, and what to try. */
export async function instructions(demo: Demo, baseUrl: string, inviteOnly: boolean): Promise<string> {
  const newcomer = `user-${randomBytes(3).toString('hex')}`;
  // A returning user: provisioned now (past any signup policy), so their requests take the fast path.
  await demo.provisioner.preProvision({ issuer: demo.idp.issuer, subject: 'bob', email: 'bob@example.com' });
  const [fresh, bob, admin, invited] = await Promise.all([
    demo.token(newcomer, {}, '1h'),
    demo.token('bob', {}, '1h'),
    demo.token(ADMIN.subject, ADMIN, '1h'),
    demo.token('dave', { email: 'dave@example.com', name: 'Dave' }, '1h'),
  ]);
  const auth = (variable: string) => `-H "Authorization: Bearer $${variable}"`;
  const pages = demo.op
    ? [
        `Try the admin pages (sign-in at the dev OpenID Provider ${demo.op.issuer}; development only: any password works):`,
        `  1. open ${baseUrl}/admin and sign in as ${ADMIN_EMAIL}, password ${DEMO_PASSWORD}`,
        '  2. invite someone (paste emails or upload a CSV); their link is printed below as "[demo mail] … /invite?token=…"',
        '  3. open that link in a second (private) window, "Continue with sign-in" with the invited email (any password)',
        `     → ${baseUrl}/account shows the account with the invited role; /admin lists the invitation as consumed`,
        '',
      ]
    : [];
  return [
    `jit-provision demo listening on ${baseUrl}`,
    '',
    ...pages,
    'Or call the API with tokens of the dev issuer:',
    `store: ${demo.store}${inviteOnly ? ', invite-only signup' : ''}; dev issuer: ${demo.idp.issuer}; tokens valid 1h`,
    '',
    `export NEW_USER_TOKEN='${fresh}'`,
    `export RETURNING_TOKEN='${bob}'`,
    `export ADMIN_TOKEN='${admin}'`,
    `export INVITED_TOKEN='${invited}'`,
    '',
    inviteOnly
      ? `# a new user without an invitation: 403 invitation_required`
      : '# a new user: the first call creates them ("created": true) and two welcome todos',
    `curl -s ${auth('NEW_USER_TOKEN')} ${baseUrl}/me`,
    `curl -s ${auth('NEW_USER_TOKEN')} ${baseUrl}/todos`,
    '# a returning user: no creation, one lookup (then the cache)',
    `curl -s ${auth('RETURNING_TOKEN')} ${baseUrl}/me`,
    '# the pre-provisioned admin invites dave@example.com ...',
    `curl -s -X POST ${auth('ADMIN_TOKEN')} -H 'content-type: application/json' -d '{"email":"dave@example.com"}' ${baseUrl}/admin/invitations`,
    '# ... its "url" (/invite?token=...) opens the invitation page; the page peeks without a login:',
    `curl -s "${baseUrl}/admin/api/invitations/peek?token=TOKEN_FROM_THE_URL"`,
    inviteOnly
      ? "# ... and dave's first login consumes the invitation (role from the invitation)"
      : '# ... and dave logs in (start with --invite-only to make invitations required)',
    `curl -s ${auth('INVITED_TOKEN')} ${baseUrl}/me`,
    '# no token: 401 with WWW-Authenticate',
    `curl -si ${baseUrl}/me`,
    '',
  ].join('\n');
}

/** What `main.ts` of every example starts from: the demo configured by argv/env, and its port. */
export async function demoFromProcess(
  argv: readonly string[] = process.argv,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ demo: Demo; port: number; ready(url: string): Promise<string> }> {
  const port = Number(env['PORT'] ?? 3000);
  const inviteOnly = argv.includes('--invite-only') || env['JIT_INVITE_ONLY'] === '1';
  const store = storeChoiceFrom(argv, env);
  // Users are keyed by issuer, and the dev issuer's URL has its port: a fixed one keeps Postgres users across restarts.
  const issuerPort = env['ISSUER_PORT']
    ? Number(env['ISSUER_PORT'])
    : store.kind === 'postgres'
      ? port + 1
      : undefined;
  const demo = await createDemo({
    store,
    inviteOnly,
    baseUrl: `http://localhost:${port}`,
    printInvitations: true,
    // Like the dev issuer's: a fixed port keeps the provider's issuer, part of every user's key, across restarts.
    provider: {
      port: env['OIDC_PORT'] ? Number(env['OIDC_PORT']) : store.kind === 'postgres' ? port + 2 : 0,
    },
    ...(issuerPort === undefined ? {} : { issuerPort }),
  });
  // What every app should do at start: verify issuers and store now, not at the first login.
  const report = await demo.provisioner.check();
  (report.ok ? console.log : console.error)(formatCheckReport(report));
  return { demo, port, ready: (url) => instructions(demo, url, inviteOnly) };
}

/**
 * Runs `stop` once, then exits, on SIGINT, on SIGTERM, or when the process that started this one is gone.
 * The last case is what makes one Ctrl-C or `kill` of `pnpm demo` enough: pnpm forwards the signal only to
 * the shell it spawned, which dies without passing it on, and the server would keep the port.
 *
 * @example
 * stopWhenAsked(async () => { server.close(); await demo.close(); });
 */
export function stopWhenAsked(stop: () => Promise<void>, parent: number = process.ppid): void {
  let stopping = false;
  const stopOnce = () => {
    if (stopping) return;
    stopping = true;
    clearInterval(watch);
    stop().finally(() => process.exit(0));
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stopOnce);
  // process.ppid is read once at start-up, so the parent is probed instead; unref'd, it keeps nothing alive.
  const watch = setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      stopOnce();
    }
  }, 250);
  watch.unref();
}
