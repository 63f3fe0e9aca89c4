/**
 * Sources without a provider of their own: `generic-webhook` (no verification),
 * `generic-hmac` (any HMAC scheme: header, algorithm, encoding, prefix, optional signed
 * timestamp), `basic-auth` and `bearer`. All take the mapping options (event type and
 * dedupe id from a header or a JSON path).
 */
import { invalid } from '../errors.js';
import { mappedEventId, mappedEventType, parseMapping, publicMapping } from './mapping.js';
import type { Mapping } from './mapping.js';
import { OK, header, hmac, optionalEnum, optionalInt, optionalString, parseSeconds, refuse, requiredString, safeEqual, withinTolerance } from './util.js';
import type { InboundRequest, ProviderSpec } from './types.js';

const mapped = {
  eventType: (req: InboundRequest, body: Parameters<typeof mappedEventType>[1], c: { mapping: Mapping }) => mappedEventType(req, body, c.mapping),
  eventId: (req: InboundRequest, body: Parameters<typeof mappedEventId>[1], c: { mapping: Mapping }) => mappedEventId(req, body, c.mapping),
};

export const genericWebhook: ProviderSpec<{ mapping: Mapping }> = {
  parseConfig: (raw) => ({ mapping: parseMapping(raw) }),
  publicConfig: (c) => publicMapping(c.mapping),
  verify: () => OK,
  ...mapped,
};

/** One piece of the signed content: literal text, the body, the timestamp, the URL or a header. */
type Piece = { kind: 'text'; text: string } | { kind: 'body' } | { kind: 'timestamp' } | { kind: 'url' } | { kind: 'header'; name: string };

/** Parses a signed-content template such as `{timestamp}.{body}` or `{header:X-Id}.{body}`. */
export function parseTemplate(t: string): Piece[] {
  const out: Piece[] = [];
  const re = /\{(body|timestamp|url|header:([!#$%&'*+\-.^_`|~0-9A-Za-z]+))\}/g;
  let at = 0;
  for (const m of t.matchAll(re)) {
    if (m.index > at) out.push({ kind: 'text', text: t.slice(at, m.index) });
    const k = m[1]!;
    out.push(k === 'body' ? { kind: 'body' } : k === 'timestamp' ? { kind: 'timestamp' } : k === 'url' ? { kind: 'url' } : { kind: 'header', name: m[2]!.toLowerCase() });
    at = m.index + m[0].length;
  }
  if (at < t.length) out.push({ kind: 'text', text: t.slice(at) });
  return out;
}

export interface HmacConfig {
  secret: string;
  key: Buffer;
  secretEncoding: 'utf8' | 'hex' | 'base64';
  header: string;
  algorithm: 'sha1' | 'sha256' | 'sha512';
  encoding: 'hex' | 'base64';
  prefix: string | null;
  timestampHeader: string | null;
  toleranceSecs: number;
  signedContent: string;
  template: Piece[];
  mapping: Mapping;
}

export const genericHmac: ProviderSpec<HmacConfig> = {
  parseConfig(raw) {
    const secret = requiredString(raw, 'secret');
    const secretEncoding = optionalEnum(raw, 'secretEncoding', ['utf8', 'hex', 'base64'] as const, 'utf8');
    const key = Buffer.from(secret, secretEncoding);
    if (key.length === 0) throw invalid(['body', 'config', 'secret'], `config.secret is not valid ${secretEncoding}`);
    const timestampHeader = optionalString(raw, 'timestampHeader', 256);
    const signedContent = optionalString(raw, 'signedContent', 1024) ?? (timestampHeader ? '{timestamp}.{body}' : '{body}');
    const template = parseTemplate(signedContent);
    if (!template.some((p) => p.kind === 'body')) throw invalid(['body', 'config', 'signedContent'], 'config.signedContent must include {body}');
    if (template.some((p) => p.kind === 'timestamp') && !timestampHeader) {
      throw invalid(['body', 'config', 'signedContent'], 'config.signedContent uses {timestamp} but config.timestampHeader is not set');
    }
    return {
      secret,
      key,
      secretEncoding,
      header: requiredString(raw, 'header', 256).toLowerCase(),
      algorithm: optionalEnum(raw, 'algorithm', ['sha1', 'sha256', 'sha512'] as const, 'sha256'),
      encoding: optionalEnum(raw, 'encoding', ['hex', 'base64'] as const, 'hex'),
      prefix: optionalString(raw, 'prefix', 64),
      timestampHeader: timestampHeader?.toLowerCase() ?? null,
      toleranceSecs: optionalInt(raw, 'toleranceSecs', 1, 86_400) ?? 300,
      signedContent,
      template,
      mapping: parseMapping(raw),
    };
  },
  publicConfig: (c) => ({
    header: c.header,
    algorithm: c.algorithm,
    encoding: c.encoding,
    secretEncoding: c.secretEncoding,
    ...(c.prefix !== null ? { prefix: c.prefix } : {}),
    ...(c.timestampHeader !== null ? { timestampHeader: c.timestampHeader, toleranceSecs: c.toleranceSecs } : {}),
    signedContent: c.signedContent,
    ...publicMapping(c.mapping),
  }),
  verify(req, _body, c) {
    const value = header(req, c.header);
    if (!value) return refuse(`missing ${c.header} header`);
    let ts: string | undefined;
    if (c.timestampHeader) {
      ts = header(req, c.timestampHeader)?.trim();
      const sec = parseSeconds(ts);
      if (sec === null) return refuse(`missing or invalid ${c.timestampHeader} header`);
      if (!withinTolerance(sec, req.nowMs, c.toleranceSecs)) return refuse(`${c.timestampHeader} is outside the tolerance of ${c.toleranceSecs} s`);
    }
    const parts: (string | Buffer)[] = c.template.map((p) => {
      switch (p.kind) {
        case 'text':
          return p.text;
        case 'body':
          return req.body;
        case 'timestamp':
          return ts ?? '';
        case 'url':
          return req.url;
        case 'header':
          return header(req, p.name) ?? '';
      }
    });
    const expected = hmac(c.algorithm, c.key, parts).toString(c.encoding);
    // Several signatures may be sent (key rotation): any one may match.
    const candidates = value.split(/[\s,]+/).filter(Boolean);
    const ok = candidates.some((cand) => {
      if (c.prefix !== null) {
        if (!cand.startsWith(c.prefix)) return false;
        cand = cand.slice(c.prefix.length);
      }
      return safeEqual(c.encoding === 'hex' ? cand.toLowerCase() : cand, expected);
    });
    return ok ? OK : refuse(`${c.header} does not match the payload`);
  },
  ...mapped,
};

export interface BasicAuthConfig {
  username: string;
  password: string;
  mapping: Mapping;
}

export const basicAuth: ProviderSpec<BasicAuthConfig> = {
  parseConfig(raw) {
    const username = requiredString(raw, 'username', 256);
    if (username.includes(':')) throw invalid(['body', 'config', 'username'], 'config.username must not contain ":"');
    return { username, password: requiredString(raw, 'password', 1024), mapping: parseMapping(raw) };
  },
  publicConfig: (c) => ({ username: c.username, ...publicMapping(c.mapping) }),
  verify(req, _body, c) {
    const h = header(req, 'authorization');
    if (!h || !/^basic /i.test(h)) return refuse('missing Basic Authorization header');
    const given = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
    return safeEqual(given, `${c.username}:${c.password}`) ? OK : refuse('wrong username or password');
  },
  ...mapped,
};

export interface BearerConfig {
  token: string;
  header: string;
  mapping: Mapping;
}

export const bearer: ProviderSpec<BearerConfig> = {
  parseConfig: (raw) => ({
    token: requiredString(raw, 'token', 1024),
    header: (optionalString(raw, 'header', 256) ?? 'authorization').toLowerCase(),
    mapping: parseMapping(raw),
  }),
  publicConfig: (c) => ({ header: c.header, ...publicMapping(c.mapping) }),
  verify(req, _body, c) {
    const h = header(req, c.header);
    if (!h) return refuse(`missing ${c.header} header`);
    let given = h.trim();
    if (c.header === 'authorization') {
      if (!/^bearer /i.test(given)) return refuse('Authorization header is not a Bearer token');
      given = given.slice(7).trim();
    }
    return safeEqual(given, c.token) ? OK : refuse('wrong token');
  },
  ...mapped,
};
