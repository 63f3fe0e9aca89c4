/**
 * Development mode (`switchboard serve --dev`, which `npm start` runs): the settings a person
 * trying Switchboard on their own machine needs, applied over the environment. Production
 * (no flag) keeps the safe defaults: receivers on private networks are refused.
 */
import { CliError, EXIT } from './exit-codes.js';

/** Receivers a development server may reach although they are private: this machine. */
export const DEV_ALLOWED_NETWORKS = '127.0.0.0/8,::1/128';

type Env = Record<string, string | undefined>;

/** The environment the server is configured from: `env` itself, or with development defaults under it. */
export function serveEnvironment(env: Env, opts: { dev?: boolean | undefined; role?: string | undefined }): Env {
  let out: Env = opts.role ? { ...env, SWITCHBOARD_ROLE: opts.role } : env;
  if (!opts.dev) return out;
  if (env.SWITCHBOARD_ENV === 'production') throw new CliError('--dev cannot be used with SWITCHBOARD_ENV=production', EXIT.usage);
  out = { ...out, SWITCHBOARD_ENV: 'development' };
  // An explicit setting wins, even an empty one (loopback refused on purpose).
  if (env.SWITCHBOARD_ALLOWED_NETWORKS === undefined) out.SWITCHBOARD_ALLOWED_NETWORKS = DEV_ALLOWED_NETWORKS;
  return out;
}
