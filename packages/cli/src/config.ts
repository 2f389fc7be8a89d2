import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  configFromEnv,
  createInvitationService,
  createProvisioner,
  type InvitationService,
  type Provisioner,
  type Store,
} from '@jit-provision/core';
import { createPostgresStore, type PostgresStore } from '@jit-provision/store-postgres';
import { configError } from './errors';
import type { CliIo } from './io';

/**
 * What a `jit-provision.config.{ts,mjs,js}` exports (as named exports or as the default export, which may
 * also be a function returning it): the app's own provisioner and invitation service, so the CLI creates
 * users and sends invitations exactly as the app does (its hooks, its `send` and mailer, its `ttlMs`).
 *
 * @example
 * ```ts
 * // jit-provision.config.ts
 * import { defineConfig } from '@jit-provision/cli';
 * import { provisioner, invitations } from './src/auth';
 * export default defineConfig({ provisioner, invitations });
 * ```
 */
export interface JitProvisionConfig {
  provisioner: Provisioner;
  invitations?: InvitationService | undefined;
  /** The store, when neither service exposes it (`invitations.store` is used otherwise). */
  store?: Store | undefined;
}

/**
 * Type a config file's export.
 *
 * @example
 * ```ts
 * export default defineConfig(async () => ({ provisioner: await makeProvisioner() }));
 * ```
 */
export function defineConfig<
  T extends JitProvisionConfig | (() => JitProvisionConfig | Promise<JitProvisionConfig>),
>(config: T): T {
  return config;
}

/** Global options that choose the configuration. */
export interface ConfigOptions {
  config?: string | undefined;
  secretFile?: string | undefined;
}

/** What commands draw on; every part is built on first use, so a command only needs the settings it uses. */
export interface CliContext {
  readonly io: CliIo;
  /** Where the configuration came from: a config file's path, or `env`. */
  source(): Promise<string>;
  provisioner(): Promise<Provisioner>;
  /** The store (config: `store` or `invitations.store`; env: the Postgres store). */
  store(): Promise<Store>;
  /**
   * The invitation service. `forCreate`: it will create invitations, so env mode needs `INVITATION_SECRET`
   * and `INVITATION_URL`; listing, revoking and purging never touch a token and need neither.
   */
  invitations(forCreate: boolean): Promise<InvitationService>;
  close(): Promise<void>;
}

const CONFIG_FILES = ['jit-provision.config.ts', 'jit-provision.config.mjs', 'jit-provision.config.js'];

interface Loaded {
  source: string;
  config: JitProvisionConfig;
  owned?: PostgresStore | undefined;
}

function isProvisioner(value: unknown): value is Provisioner {
  return typeof (value as Provisioner | undefined)?.ensureUserExists === 'function';
}

async function importFile(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  if (/\.[cm]?ts$/.test(file)) {
    // tsx's API compiles the file and everything it imports in an isolated loader: no global hook, works
    // for ESM and CJS apps alike, honours the app's tsconfig, and needs no build step of the app.
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(url, url)) as Record<string, unknown>;
  }
  return (await import(url)) as Record<string, unknown>;
}

async function loadConfigFile(file: string): Promise<JitProvisionConfig> {
  const module = await importFile(file);
  let value: unknown = isProvisioner(module['provisioner']) ? module : module['default'];
  // A CJS-compiled module nests the default once more.
  if (!isProvisioner((value as JitProvisionConfig | undefined)?.provisioner) && typeof value === 'object') {
    const inner = (value as { default?: unknown } | null)?.default;
    if (inner !== undefined) value = inner;
  }
  if (typeof value === 'function') value = await (value as () => unknown)();
  const config = value as JitProvisionConfig | undefined;
  if (!isProvisioner(config?.provisioner)) {
    throw configError(`${file} must export { provisioner, invitations } (named or default)`);
  }
  return config;
}

function required(io: CliIo, name: string, what: string): string {
  const value = io.env[name];
  if (value === undefined || value.trim() === '') {
    throw configError(`${name} is not set: ${what} (or give --config / a jit-provision.config.ts)`);
  }
  return value;
}

/** The invitation secret: `--secret-file` or `INVITATION_SECRET`, never a command-line value. */
function secretOf(io: CliIo, options: ConfigOptions): string {
  let secret: string;
  let name: string;
  if (options.secretFile !== undefined) {
    name = '--secret-file';
    try {
      secret = readFileSync(resolve(io.cwd, options.secretFile), 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw configError(`--secret-file cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  } else {
    name = 'INVITATION_SECRET';
    secret = required(io, name, 'the HMAC key of invitation tokens, at least 32 bytes');
  }
  if (Buffer.byteLength(secret, 'utf8') < 32) throw configError(`${name} must be at least 32 bytes`);
  return secret;
}

/** `INVITATION_URL`, a template with `{token}`. */
function urlTemplate(io: CliIo): (token: string) => string {
  const template = required(io, 'INVITATION_URL', 'the signup link, a URL template with {token}');
  if (!template.includes('{token}')) throw configError('INVITATION_URL must contain {token}');
  return (token) => template.replaceAll('{token}', encodeURIComponent(token));
}

/**
 * Build the context: `--config <file>`, else a `jit-provision.config.{ts,mjs,js}` in the working directory,
 * else the environment (`DATABASE_URL`, `JIT_PROVISION_SCHEMA`, `INVITATION_SECRET`, `INVITATION_URL`, and
 * core's `JIT_*` variables so usernames get the app's prefixes).
 */
export function createContext(io: CliIo, options: ConfigOptions): CliContext {
  let loading: Promise<Loaded> | undefined;
  const services = new Map<string, InvitationService>();

  const load = (): Promise<Loaded> => {
    loading ??= (async (): Promise<Loaded> => {
      let file: string | undefined;
      if (options.config !== undefined) {
        file = isAbsolute(options.config) ? options.config : resolve(io.cwd, options.config);
        if (!existsSync(file)) throw configError(`--config ${options.config}: no such file`);
      } else {
        file = CONFIG_FILES.map((name) => resolve(io.cwd, name)).find((path) => existsSync(path));
      }
      if (file !== undefined) return { source: file, config: await loadConfigFile(file) };

      const connectionString = required(io, 'DATABASE_URL', 'a postgres:// URL of the database');
      const schema = io.env['JIT_PROVISION_SCHEMA']?.trim() || undefined;
      const store = createPostgresStore({
        connectionString,
        ...(schema === undefined ? {} : { schema }),
        // An unreachable server fails in seconds, not at the OS's TCP timeout.
        poolConfig: { connectionTimeoutMillis: 10_000, max: 10 },
      });
      // Inline hook delivery with no hooks: a CLI process must never run an outbox dispatcher, which
      // would mark the app's events delivered without running the app's hooks.
      const provisioner = createProvisioner({
        ...configFromEnv(io.env),
        store,
        userCache: false,
        tokenCache: false,
      });
      return { source: 'env', config: { provisioner, store }, owned: store };
    })();
    return loading;
  };

  const storeOf = (config: JitProvisionConfig): Store | undefined =>
    config.store ?? config.invitations?.store;

  return {
    io,
    source: async () => (await load()).source,
    provisioner: async () => (await load()).config.provisioner,
    async store() {
      const { config, source } = await load();
      const store = storeOf(config);
      if (store === undefined)
        throw configError(`${source} exports no store (add \`store\` or \`invitations\`)`);
      return store;
    },
    async invitations(forCreate) {
      const { config, source, owned } = await load();
      if (owned === undefined) {
        if (config.invitations === undefined)
          throw configError(`${source} exports no \`invitations\` service`);
        return config.invitations;
      }
      const key = forCreate ? 'create' : 'read';
      let service = services.get(key);
      if (service === undefined) {
        // Listing, revoking and purging never hash a token, so they run without the secret: a cron job
        // purging invitations need not hold it.
        service = forCreate
          ? createInvitationService({ store: owned, secret: secretOf(io, options), urlFor: urlTemplate(io) })
          : createInvitationService({ store: owned, secret: randomBytes(32) });
        services.set(key, service);
      }
      return service;
    },
    async close() {
      if (loading === undefined) return;
      const loaded = await loading.catch(() => undefined);
      await loaded?.owned?.close().catch(() => undefined);
    },
  };
}
