/**
 * Stream tokens: expiring portal tokens limited to one stream (its sinks and events), and
 * poller tokens that read one poller sink's events and nothing else. Stored as hashes; a
 * poller token is also kept sealed so it can be shown again. Resolved into `stream` principals.
 */
import type { Clock } from '../../domain/clock.js';
import { AppError } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { hashToken, newToken } from '../../security/crypto.js';
import type { Store } from '../../storage/contract/store.js';
import type { SinkRecord, StreamRecord, StreamTokenRecord } from '../../storage/contract/streams.js';

/** Every stream portal token starts with this. */
export const STREAM_PORTAL_TOKEN_PREFIX = 'sb_stream_';
/** Every stream poller token starts with this. */
export const STREAM_POLLER_TOKEN_PREFIX = 'sb_sinkpoll_';
/** Who a stream token is: one stream, or one poller sink of it (a `Principal` of `Auth`). */
export interface StreamIdentity {
  kind: 'stream';
  credentialId: string;
  streamId: string;
  /** The poller sink of a poller token; null for portal tokens. */
  sinkId: string | null;
}

const PORTAL_DEFAULT_EXPIRY_S = 7 * 24 * 3600;
const DEFAULT_OLD_TOKEN_EXPIRY_S = 300;

export class StreamTokenService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Base URL of this server as users reach it, for the portal link. */
    private readonly publicUrl: () => string,
  ) {}

  /** Issues a portal token for the stream. */
  async portalAccess(stream: StreamRecord, input: { expiry?: number | null | undefined; sessionId?: string | null | undefined }): Promise<{ url: string; token: string }> {
    const now = this.clock.now();
    const token = newToken(STREAM_PORTAL_TOKEN_PREFIX);
    await this.store.streams.createStreamToken({
      id: newId('streamToken', now),
      hash: hashToken(token),
      kind: 'portal',
      streamId: stream.id,
      sinkId: null,
      sessionId: input.sessionId ?? null,
      token: null,
      createdAt: now,
      expiresAt: now + (input.expiry ?? PORTAL_DEFAULT_EXPIRY_S) * 1000,
      revokedAt: null,
    });
    // The token travels in the fragment: browsers never send it to a server or in a Referer.
    const url = `${this.publicUrl().replace(/\/+$/, '')}/portal#token=${encodeURIComponent(token)}&stream_id=${encodeURIComponent(stream.id)}`;
    return { url, token };
  }

  /** Expires the stream's portal tokens `delaySeconds` from now (only those of `sessionIds`, if given). */
  async expireAll(stream: StreamRecord, delaySeconds: number, sessionIds: string[] | null): Promise<number> {
    return this.store.streams.expirePortalTokens(stream.id, this.clock.now() + delaySeconds * 1000, sessionIds);
  }

  /** Logs out the calling stream portal token. */
  async logout(p: StreamIdentity | null): Promise<void> {
    if (!p || p.sinkId !== null) throw new AppError('bad_request', 'only stream portal tokens log out through this route');
    await this.store.streams.revokeStreamToken(p.credentialId, this.clock.now());
  }

  /** The poller sink's current token, made on first use. */
  async pollerToken(sink: SinkRecord): Promise<StreamTokenRecord> {
    checkPoller(sink);
    const cur = await this.store.streams.currentPollerToken(sink.id);
    if (cur) return cur;
    const fresh = this.newPollerToken(sink, null);
    await this.store.streams.rotatePollerToken(fresh, Number.MAX_SAFE_INTEGER);
    return fresh;
  }

  /** Issues a new poller token; older ones keep working for `oldTokenExpiry` seconds (default 300). */
  async rotatePollerToken(sink: SinkRecord, input: { expiry?: number | null | undefined; oldTokenExpiry?: number | undefined }): Promise<StreamTokenRecord> {
    checkPoller(sink);
    const now = this.clock.now();
    const t = this.newPollerToken(sink, input.expiry ? now + input.expiry * 1000 : null);
    await this.store.streams.rotatePollerToken(t, now + (input.oldTokenExpiry ?? DEFAULT_OLD_TOKEN_EXPIRY_S) * 1000);
    return t;
  }

  /** Token resolver for `Auth`: a live stream token becomes a stream principal. */
  readonly resolve = async (token: string): Promise<StreamIdentity | null> => {
    if (!token.startsWith(STREAM_PORTAL_TOKEN_PREFIX) && !token.startsWith(STREAM_POLLER_TOKEN_PREFIX)) return null;
    const t = await this.store.streams.streamTokenByHash(hashToken(token));
    if (!t || t.revokedAt !== null || (t.expiresAt !== null && t.expiresAt <= this.clock.now())) return null;
    return { kind: 'stream', credentialId: t.id, streamId: t.streamId, sinkId: t.kind === 'poller' ? t.sinkId : null };
  };

  private newPollerToken(sink: SinkRecord, expiresAt: number | null): StreamTokenRecord {
    const now = this.clock.now();
    const token = newToken(STREAM_POLLER_TOKEN_PREFIX);
    return {
      id: newId('streamToken', now),
      hash: hashToken(token),
      kind: 'poller',
      streamId: sink.streamId,
      sinkId: sink.id,
      sessionId: null,
      token,
      createdAt: now,
      expiresAt,
      revokedAt: null,
    };
  }
}

function checkPoller(sink: SinkRecord): void {
  if (sink.type !== 'poller') throw new AppError('bad_request', `poller tokens are for poller sinks; this sink's type is ${sink.type}`);
}
