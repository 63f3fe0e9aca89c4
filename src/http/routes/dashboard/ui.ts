/**
 * The web dashboard (/ui/) and consumer portal (/portal): the built single-page app from
 * web/dist, served from memory with SPA fallback. The pages are public; every API call they
 * make carries the user's token. Also `GET /api/v1/ui/session`: what the caller's token may do.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import type { Principal } from '../../../access/principal.js';
import { uiStatsRoutes } from './ui-stats.js';

/** Where `npm run build` puts the app (from dist/src/http/routes/ui.js up to the repository). */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../../../../web/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Stricter than the server-wide HTML policy: the app has no inline styles or scripts. */
const UI_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function loadAssets(dir: string): Map<string, Asset> {
  const out = new Map<string, Asset>();
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const body = readFileSync(p);
        const rel = '/' + relative(dir, p).split(sep).join('/');
        out.set(rel, { body, type: TYPES[extname(p)] ?? 'application/octet-stream', etag: '"' + createHash('sha256').update(body).digest('base64url').slice(0, 22) + '"' });
      }
    }
  };
  walk(dir);
  return out;
}

const NOT_BUILT = Buffer.from(
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Switchboard</title></head><body>' +
    '<h1>Switchboard</h1><p>The web dashboard is not built. Run <code>npm run build</code> and restart the server.</p>' +
    '<p>The API is available at <code>/api/v1</code>.</p></body></html>',
);

function send(req: FastifyRequest, reply: FastifyReply, a: Asset, cache: string): FastifyReply {
  reply.header('cache-control', cache).header('etag', a.etag).type(a.type);
  if (a.type.startsWith('text/html')) reply.header('content-security-policy', UI_CSP);
  if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
  return reply.send(a.body);
}

/** What a principal may do, as the UI needs to know it (never the credential itself). */
function sessionOf(p: Principal | null): { kind: 'admin' | 'app' | 'poller' | 'stream'; appId?: string; streamId?: string; scopes?: string[] } {
  if (!p || p.kind === 'admin') return { kind: 'admin' };
  if (p.kind === 'stream') return { kind: 'stream', streamId: p.streamId };
  if (p.kind === 'poller') return { kind: 'poller', appId: p.appId };
  return { kind: 'app', appId: p.appId, scopes: [...p.scopes].sort() };
}

/** The app's pages, the session route and the statistics behind the charts. */
export const uiRoutes =
  (deps: AppDeps, dir: string = DEFAULT_UI_DIR): RoutePlugin =>
  async (app) => {
    await app.register(uiStatsRoutes(deps));
    const assets = loadAssets(dir);
    const index = assets.get('/index.html') ?? { body: NOT_BUILT, type: TYPES['.html']!, etag: '"not-built"' };
    const page = { config: { access: 'public' as const }, schema: { hide: true } };

    const serveIndex = (req: FastifyRequest, reply: FastifyReply) => send(req, reply, index, 'no-cache');

    app.get('/', page, async (_req, reply) => reply.redirect('/ui/'));
    app.get('/ui', page, async (_req, reply) => reply.redirect('/ui/'));
    app.get('/ui/*', page, async (req, reply) => {
      const rest = '/' + ((req.params as { '*': string })['*'] ?? '');
      const a = assets.get(rest);
      // Hashed build outputs never change under one name: cache them for good.
      if (a && rest !== '/index.html') return send(req, reply, a, rest.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'public, max-age=3600');
      if (rest.startsWith('/assets/')) return reply.code(404).type('text/plain').send('not found');
      return serveIndex(req, reply);
    });
    app.get('/portal', page, serveIndex);
    app.get('/portal/*', page, serveIndex);

    app.get(
      '/api/v1/ui/session',
      {
        config: { access: 'any' },
        schema: {
          tags: ['authentication'],
          summary: "What the caller's token may do",
          description: 'The dashboard asks this to learn whether a token is organisation-wide or limited to one application, and with which scopes.',
          response: {
            200: {
              type: 'object',
              required: ['kind'],
              properties: {
                kind: { type: 'string', enum: ['admin', 'app', 'poller', 'stream'] },
                appId: { type: 'string' },
                streamId: { type: 'string' },
                scopes: { type: 'array', items: { type: 'string' } },
              },
            },
          },
        },
      },
      async (req, reply) => reply.header('cache-control', 'no-store').send(sessionOf(req.principal)),
    );
  };
