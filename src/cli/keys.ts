/**
 * `switchboard keys`: API keys (create, list, revoke), re-encryption of secrets at rest after
 * an encryption key rotation, and rotation of the OAuth token signing key. Works on the
 * database directly, so it also bootstraps a server that has no key yet.
 */
import { makePrivateDir } from '../security/private-files.js';
import { Command, InvalidArgumentError } from 'commander';
import type { Config } from '../config.js';
import type { ApiKeyService } from '../access/api-keys.js';
import type { ApiKeyRecord, CredentialScope } from '../storage/contract/auth.js';
import type { SecretBox } from '../security/crypto.js';
import type { Store } from '../storage/contract/store.js';
import { jsonOf } from './common.js';
import { CliError, EXIT } from './exit-codes.js';

/** Opens the configured database with the configured encryption keys. */
async function openStore(config: Config): Promise<{ store: Store; box: SecretBox }> {
  // Loaded on use: the storage modules would slow the start of every other command.
  const { SecretBox, resolveKeyRing } = await import('../security/crypto.js');
  const { openStore } = await import('../composition/open-store.js');
  makePrivateDir(config.dataDir);
  const keys = resolveKeyRing(config.security.encryptionKeys, config.dataDir, (file) => process.stderr.write(`generated an encryption key in ${file}; keep a copy apart from the data directory and its backups\n`));
  const box = new SecretBox(keys);
  const store = openStore(config, { box, poolSize: 2 });
  await store.migrate();
  return { store, box };
}

/** The API key use cases on the store. */
async function apiKeys(store: Store): Promise<ApiKeyService> {
  const [{ ApiKeyService }, { ApplicationService }, { systemClock }] = await Promise.all([
    import('../access/api-keys.js'),
    import('../catalog/applications.js'),
    import('../platform/system-clock.js'),
  ]);
  return new ApiKeyService(store, systemClock, new ApplicationService(store, systemClock));
}

async function withStore<T>(fn: (store: Store, config: Config, box: SecretBox) => Promise<T>): Promise<T> {
  const { loadConfig } = await import('../config.js');
  const { AppError } = await import('../domain/errors.js');
  const config = loadConfig();
  const { store, box } = await openStore(config);
  try {
    return await fn(store, config, box);
  } catch (e: unknown) {
    // Validation errors carry their reason in the issues.
    if (e instanceof AppError && e.issues) throw new Error(e.issues.map((i) => `${i.loc.slice(1).join('.')}: ${i.msg}`).join('; '));
    throw e;
  } finally {
    await store.close();
  }
}

/** Parses `30d`, `12h`, `45m` or `3600s` (or plain seconds) into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError('expected a duration like 90d, 12h, 30m or 3600s');
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit * 1000;
}

const scopeList = (text: string): CredentialScope[] => {
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of parts) if (!['read', 'write', 'publish'].includes(p)) throw new InvalidArgumentError(`unknown scope "${p}" (read, write, publish)`);
  return parts as CredentialScope[];
};

function describe(k: ApiKeyRecord): string {
  const scope = k.appId ? `${k.appId} ${k.scopes.join(',')}` : 'admin';
  const state = k.revokedAt ? 'revoked' : k.expiresAt && k.expiresAt <= Date.now() ? 'expired' : 'active';
  const used = k.lastUsedAt ? new Date(k.lastUsedAt).toISOString() : 'never';
  return `${k.id}  ${k.prefix}…  ${state.padEnd(7)}  ${scope}  "${k.name}"  last used ${used}`;
}

/** The `keys` command and its subcommands. */
export function keysCommand(): Command {
  const keys = new Command('keys').description('API keys, re-encryption of secrets at rest, OAuth signing keys');

  keys
    .command('create')
    .description('create an API key and print it (shown this once)')
    .requiredOption('--name <name>', 'what the key is for')
    .option('--admin', 'organisation-wide admin key')
    .option('--app <app>', 'limit the key to this application (id or uid)')
    .option('--scopes <scopes>', 'with --app: comma-separated read, write, publish', scopeList)
    .option('--expires-in <duration>', 'expire after e.g. 90d, 12h', parseDuration)
    .action(async (o: { name: string; admin?: boolean; app?: string; scopes?: CredentialScope[]; expiresIn?: number }, c: Command) => {
      if (!o.admin === !o.app) throw new CliError('give either --admin or --app <app> with --scopes', EXIT.usage);
      await withStore(async (store) => {
        const { record, key } = await (await apiKeys(store)).create({
          name: o.name,
          scopes: o.admin ? ['admin'] : (o.scopes ?? ['read']),
          appId: o.app ?? null,
          expiresAt: o.expiresIn !== undefined ? Date.now() + o.expiresIn : null,
        });
        if (jsonOf(c)) process.stdout.write(JSON.stringify({ id: record.id, key, prefix: record.prefix, scopes: record.scopes, appId: record.appId }) + '\n');
        else process.stdout.write(`${describe(record)}\n\n${key}\n\nKeep the key safe: it is not stored and cannot be shown again.\n`);
      });
    });

  keys
    .command('list')
    .description('list API keys (never the keys themselves)')
    .option('--app <app>', 'only keys of this application')
    .action(async (o: { app?: string }, c: Command) => {
      await withStore(async (store) => {
        const appId = o.app ? ((await store.getApplication(o.app))?.id ?? o.app) : undefined;
        const all: ApiKeyRecord[] = [];
        let iterator: string | undefined;
        for (;;) {
          const page = await store.auth.listApiKeys({ limit: 250, iterator, appId });
          all.push(...page.data);
          if (page.done || !page.iterator) break;
          iterator = page.iterator;
        }
        if (jsonOf(c)) process.stdout.write(JSON.stringify(all.map(({ hash: _hash, ...k }) => k), null, 2) + '\n');
        else for (const k of all) process.stdout.write(describe(k) + '\n');
      });
    });

  keys
    .command('revoke <keyId>')
    .description('revoke an API key; it stops working at once')
    .action(async (keyId: string) => {
      await withStore(async (store) => {
        await (await apiKeys(store)).revoke(keyId);
        process.stdout.write(`revoked ${keyId}\n`);
      });
    });

  keys
    .command('reencrypt')
    .description('re-encrypt every secret at rest under the first key of SWITCHBOARD_ENCRYPTION_KEY (run after putting a new key first)')
    .action(async () => {
      await withStore(async (store, _config, box) => {
        const scan = await store.auth.rewrapSecrets();
        const current = box.currentKeyId;
        process.stdout.write(`re-encrypted ${scan.rewrapped} value(s) under key ${current}\n`);
        const before = Object.entries(scan.byKey).map(([k, n]) => `${k}: ${n}`).join(', ') || 'none';
        process.stdout.write(`sealed values found before, by key: ${before}\n`);
        if (scan.unopened > 0) {
          process.stdout.write(`${scan.unopened} sealed-looking value(s) could not be opened with any configured key and were left as they are; keep the old key until you know why\n`);
          process.exitCode = 2;
        } else process.stdout.write('every secret is now under the first key; older keys can be removed from SWITCHBOARD_ENCRYPTION_KEY\n');
      });
    });

  keys
    .command('rotate-signing-key')
    .description('start signing OAuth access tokens with a new key; tokens signed before stay valid until they expire')
    .action(async () => {
      await withStore(async (store, config) => {
        const [{ OAuthService }, { ApplicationService }, { systemClock }, { TOKEN_AUDIENCE }] = await Promise.all([
          import('../access/oauth.js'),
          import('../catalog/applications.js'),
          import('../platform/system-clock.js'),
          import('../composition/credentials.js'),
        ]);
        const oauth = new OAuthService(store, systemClock, new ApplicationService(store, systemClock), {
          issuer: () => config.security.publicUrl ?? `http://localhost:${config.port}`,
          audience: TOKEN_AUDIENCE,
          tokenTtlSeconds: config.security.oauthTokenTtlSeconds,
        });
        const { kid } = await oauth.rotateSigningKey();
        process.stdout.write(`new signing key ${kid}; running servers pick it up within a minute\n`);
      });
    });

  return keys;
}
