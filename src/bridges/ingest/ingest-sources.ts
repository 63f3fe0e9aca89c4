/**
 * Use cases for ingest sources: create, read, change and delete them, rotate their URL
 * tokens, read their logs, and resolve a URL token on the receiving path.
 *
 * Each source owns an application whose uid is the source id. The source's endpoints are
 * that application's endpoints and every event it takes in is a message of that
 * application, so delivery, retries, signing, attempts, replay and the pull API all apply
 * unchanged.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../domain/clock.js';
import { AppError, conflict, invalid, notFound } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { checkUid } from '../../domain/uid.js';
import type { Application, Metadata } from '../../domain/model.js';
import { SOURCE_TYPES, providerOf } from '../../domain/providers/index.js';
import type { ProviderSpec } from '../../domain/providers/index.js';
import type { IngestSource } from '../../domain/providers/source.js';
import type { IngestLog, RunState, SourceRecord } from '../../storage/contract/ingest.js';
import type { Page, PageQuery, Store } from '../../storage/contract/store.js';
import type { ApplicationService } from '../../catalog/applications.js';
import type { EndpointService } from '../../catalog/endpoints.js';
import { hashToken } from '../../security/crypto.js';
import { nextCronTime, parseCronConfig, publicCronConfig } from '../../domain/sources/cron.js';
import type { CronConfig } from '../../domain/sources/cron.js';
import { parsePollConfig, publicPollConfig } from '../../domain/sources/poll-config.js';
import type { PollConfig } from '../../domain/sources/poll-config.js';
import { QUEUE_TYPES, brokerUriOf, isQueueType, parseQueueConfig, publicQueueConfig } from '../../domain/sources/queue-config.js';
import type { QueueConfig } from '../../domain/sources/queue-config.js';

/** How long a rotated-out URL token keeps working. */
export const TOKEN_GRACE_MS = 48 * 3600_000;
/** Rotated-out tokens that may be valid at once (rotations per grace period). */
export const MAX_TOKENS_IN_GRACE = 3;

export interface SourceInput {
  name: string;
  uid?: string | null | undefined;
  type: string;
  config?: Record<string, unknown> | null | undefined;
  metadata?: Metadata | undefined;
}

/** A source with its config parsed for its type. */
export type ParsedSource =
  | { kind: 'webhook'; source: IngestSource; spec: ProviderSpec<unknown>; config: unknown }
  | { kind: 'poll'; source: IngestSource; config: PollConfig }
  | { kind: 'cron'; source: IngestSource; config: CronConfig }
  | { kind: 'queue'; source: IngestSource; config: QueueConfig };

/** What a queue source's consumer on this node is doing (shown by the API). */
export interface QueueConsumerView {
  connected: boolean;
  lastError: string | null;
  lastErrorAt: number | null;
  lastMessageAt: number | null;
  /** Messages stored (redeliveries of stored ones included) since this node started the consumer. */
  consumed: number;
  deadLettered: number;
}

/** What the API shows of a source. */
export interface SourceView {
  source: IngestSource;
  publicConfig: Record<string, unknown>;
  /** The current URL token; null for scheduled sources, which take no requests. */
  token: string | null;
  run: RunState | null;
  /** A queue source's consumer on this node; null for other types, or when this node runs none. */
  consumer: QueueConsumerView | null;
}

/** Types that take no requests, so have no ingest URL. */
const takesNoRequests = (type: string): boolean => type === 'poll' || type === 'cron' || isQueueType(type);

const newUrlToken = (): string => randomBytes(24).toString('base64url');

/** Parses a stored or given config for its type; throws a 422 for a bad one. */
export function parseSource(source: IngestSource): ParsedSource {
  const raw = source.config;
  if (source.type === 'poll') return { kind: 'poll', source, config: parsePollConfig(raw) };
  if (source.type === 'cron') return { kind: 'cron', source, config: parseCronConfig(raw) };
  if (isQueueType(source.type)) return { kind: 'queue', source, config: parseQueueConfig(source.type, raw) };
  const spec = providerOf(source.type);
  if (!spec) throw invalid(['body', 'type'], `unknown source type "${source.type}"; one of: ${[...SOURCE_TYPES, ...QUEUE_TYPES].join(', ')}`, 'type_error.enum');
  return { kind: 'webhook', source, spec, config: spec.parseConfig(raw) };
}

export interface IngestSourceOptions {
  /** Called when a scheduled source is created, changed or deleted (the scheduler looks again). */
  onScheduleChange?: () => void;
  /** How long a token lookup may be answered from memory (other nodes' changes show after this). */
  cacheMs?: number;
  /** Called when a queue source is created, changed or deleted (its consumer is started or stopped). */
  onQueueChange?: () => void;
  /** Refuses (throws a 422 at `loc`) a broker URI the network guard does not allow. */
  checkBrokerUri?: (uri: string, loc: string[]) => Promise<void>;
  /** The state of a queue source's consumer on this node. */
  consumerState?: (sourceId: string) => QueueConsumerView | null;
}

export class IngestSourceService {
  private readonly byToken = new Map<string, { at: number; parsed: ParsedSource | null }>();
  private readonly cacheMs: number;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly applications: ApplicationService,
    private readonly endpoints: EndpointService,
    private readonly opts: IngestSourceOptions = {},
  ) {
    this.cacheMs = opts.cacheMs ?? 1000;
  }

  private toSource(r: SourceRecord): IngestSource {
    return { id: r.id, uid: r.uid, name: r.name, type: r.type, config: JSON.parse(r.config) as Record<string, unknown>, metadata: r.metadata, createdAt: r.createdAt, updatedAt: r.updatedAt };
  }

  private toRecord(s: IngestSource): SourceRecord {
    return { id: s.id, uid: s.uid, name: s.name, type: s.type, config: JSON.stringify(s.config), metadata: s.metadata, createdAt: s.createdAt, updatedAt: s.updatedAt };
  }

  /** Validates the config (and a polling source's URL); returns when the first run is due, for scheduled types. */
  private async check(source: IngestSource): Promise<{ parsed: ParsedSource; firstRunAt: number | null }> {
    const parsed = parseSource(source);
    const now = this.clock.now();
    if (parsed.kind === 'poll') {
      await this.endpoints.checkUrl(parsed.config.url, ['body', 'config', 'url']);
      return { parsed, firstRunAt: now };
    }
    if (parsed.kind === 'cron') return { parsed, firstRunAt: nextCronTime(parsed.config, now) };
    if (parsed.kind === 'queue') await this.opts.checkBrokerUri?.(brokerUriOf(parsed.config), ['body', 'config', parsed.config.type === 'natsJetStream' ? 'url' : 'uri']);
    return { parsed, firstRunAt: null };
  }

  /** What the API shows: the config without secrets, the URL token, the run state. */
  async view(source: IngestSource): Promise<SourceView> {
    let publicConfig: Record<string, unknown>;
    try {
      const parsed = parseSource(source);
      publicConfig =
        parsed.kind === 'poll'
          ? publicPollConfig(parsed.config)
          : parsed.kind === 'cron'
            ? publicCronConfig(parsed.config)
            : parsed.kind === 'queue'
              ? publicQueueConfig(parsed.config)
              : parsed.spec.publicConfig(parsed.config);
    } catch {
      publicConfig = {}; // a config this version cannot read: nothing is shown rather than an error
    }
    const scheduled = source.type === 'poll' || source.type === 'cron';
    const token = takesNoRequests(source.type) ? null : ((await this.store.ingest.currentToken(source.id))?.token ?? null);
    const run = scheduled ? await this.store.ingest.runState(source.id) : null;
    const consumer = isQueueType(source.type) ? (this.opts.consumerState?.(source.id) ?? null) : null;
    return { source, publicConfig, token, run, consumer };
  }

  async create(input: SourceInput): Promise<IngestSource> {
    checkUid(input.uid, ['body', 'uid']);
    const now = this.clock.now();
    const source: IngestSource = {
      id: newId('source', now),
      uid: input.uid ?? null,
      name: input.name,
      type: input.type,
      config: input.config ?? {},
      metadata: input.metadata ?? {},
      createdAt: now,
      updatedAt: now,
    };
    const { firstRunAt } = await this.check(source);
    if (source.uid && (await this.store.ingest.getSource(source.uid))) throw conflict('a source with this uid already exists');
    const app = await this.appFor(source);
    const token = newUrlToken();
    try {
      await this.store.ingest.createSource(this.toRecord(source), { hash: hashToken(token), token, createdAt: now, expiresAt: null }, firstRunAt);
    } catch (e: unknown) {
      await this.applications.delete(app.id).catch(() => undefined);
      throw e;
    }
    if (firstRunAt !== null) this.opts.onScheduleChange?.();
    if (isQueueType(source.type)) this.opts.onQueueChange?.();
    return source;
  }

  async get(idOrUid: string): Promise<IngestSource> {
    const r = await this.store.ingest.getSource(idOrUid);
    if (!r) throw notFound('Source');
    return this.toSource(r);
  }

  async list(q: PageQuery): Promise<Page<IngestSource>> {
    const page = await this.store.ingest.listSources(q);
    return { ...page, data: page.data.map((r) => this.toSource(r)) };
  }

  /** Saves a changed source; a changed type or config restarts its schedule (and its memory of items). */
  private async save(before: IngestSource, after: IngestSource): Promise<IngestSource> {
    const configChanged = before.type !== after.type || JSON.stringify(before.config) !== JSON.stringify(after.config);
    let schedule: number | null | 'keep' = 'keep';
    if (configChanged) schedule = (await this.check(after)).firstRunAt;
    if (after.uid !== before.uid) checkUid(after.uid, ['body', 'uid']);
    if (after.uid && after.uid !== before.uid) {
      const holder = await this.store.ingest.getSource(after.uid);
      if (holder && holder.id !== after.id) throw conflict('a source with this uid already exists');
    }
    await this.store.ingest.updateSource(this.toRecord(after), schedule);
    this.byToken.clear();
    if (configChanged) this.opts.onScheduleChange?.();
    if (configChanged && (isQueueType(before.type) || isQueueType(after.type))) this.opts.onQueueChange?.();
    return after;
  }

  /** PUT: replaces the source, or creates it with the path's value as uid. */
  async upsert(idOrUid: string, input: SourceInput): Promise<{ source: IngestSource; created: boolean }> {
    const r = await this.store.ingest.getSource(idOrUid);
    if (!r) {
      if (idOrUid.startsWith('src_')) throw notFound('Source');
      if (input.uid === undefined || input.uid === null) checkUid(idOrUid, ['path', 'source_id']);
      return { source: await this.create({ ...input, uid: input.uid ?? idOrUid }), created: true };
    }
    const before = this.toSource(r);
    const after: IngestSource = {
      ...before,
      name: input.name,
      uid: input.uid !== undefined ? input.uid : before.uid,
      type: input.type,
      config: input.config ?? {},
      metadata: input.metadata ?? {},
      updatedAt: this.clock.now(),
    };
    return { source: await this.save(before, after), created: false };
  }

  /** PATCH: name, uid, metadata, and (Switchboard) a replacement config of the same type. */
  async patch(idOrUid: string, patch: Partial<Omit<SourceInput, 'type'>>): Promise<IngestSource> {
    const before = await this.get(idOrUid);
    const after: IngestSource = { ...before, updatedAt: this.clock.now() };
    if (patch.name !== undefined) after.name = patch.name;
    if (patch.uid !== undefined) after.uid = patch.uid;
    if (patch.metadata !== undefined) after.metadata = patch.metadata;
    if (patch.config !== undefined && patch.config !== null) after.config = patch.config;
    return this.save(before, after);
  }

  async delete(idOrUid: string): Promise<void> {
    const source = await this.get(idOrUid);
    const app = await this.applications.find(source.id);
    if (app) await this.applications.delete(app.id);
    await this.store.ingest.deleteSource(source.id);
    this.byToken.clear();
    this.opts.onScheduleChange?.();
    if (isQueueType(source.type)) this.opts.onQueueChange?.();
  }

  /** A new URL token; the previous one keeps working for 48 hours. */
  async rotateToken(idOrUid: string): Promise<string> {
    const source = await this.get(idOrUid);
    if (takesNoRequests(source.type)) throw new AppError('conflict', `a ${source.type} source has no ingest URL`);
    const now = this.clock.now();
    const token = newUrlToken();
    const ok = await this.store.ingest.rotateToken(source.id, { hash: hashToken(token), token, createdAt: now, expiresAt: null }, now + TOKEN_GRACE_MS, now, MAX_TOKENS_IN_GRACE);
    if (!ok) throw conflict(`the token was rotated ${MAX_TOKENS_IN_GRACE} times in the last 48 hours; try again later`);
    this.byToken.clear();
    return token;
  }

  async logs(idOrUid: string, q: PageQuery): Promise<Page<IngestLog>> {
    const source = await this.get(idOrUid);
    return this.store.ingest.listLogs(source.id, q);
  }

  /** The application holding the source's endpoints and messages; recreated if it was deleted. */
  async appFor(source: IngestSource): Promise<Application> {
    const found = await this.applications.find(source.id);
    if (found) return found;
    const input = { name: `Ingest source ${source.name}`.slice(0, 256), metadata: { 'switchboard.source': source.id } };
    try {
      return await this.applications.createOwnedBy(source.id, input);
    } catch (e: unknown) {
      // Created concurrently by another request: use that one.
      const again = e instanceof AppError && e.code === 'conflict' ? await this.applications.find(source.id) : null;
      if (again) return again;
      throw e;
    }
  }

  /** The source and application behind a source id or uid, for the endpoint routes. */
  async withApp(idOrUid: string): Promise<{ source: IngestSource; app: Application }> {
    const source = await this.get(idOrUid);
    return { source, app: await this.appFor(source) };
  }

  /** A source with its config parsed, by id; null when it no longer exists. Throws a 422 for a config it cannot read. */
  async load(id: string): Promise<ParsedSource | null> {
    const r = await this.store.ingest.getSource(id);
    return r ? parseSource(this.toSource(r)) : null;
  }

  /** Resolves a URL token to its source (answered from memory for up to `cacheMs`). */
  async resolveToken(token: string): Promise<ParsedSource | null> {
    const now = this.clock.now();
    const hit = this.byToken.get(token);
    if (hit && now - hit.at <= this.cacheMs) return hit.parsed;
    const r = await this.store.ingest.sourceByToken(hashToken(token), now);
    let parsed: ParsedSource | null = null;
    if (r) {
      try {
        parsed = parseSource(this.toSource(r));
      } catch {
        parsed = null; // a config saved by a newer version this one cannot read: no verification possible
      }
    }
    if (this.byToken.size > 10_000) this.byToken.clear();
    this.byToken.set(token, { at: now, parsed });
    return parsed;
  }

  /** The endpoints service, scoped by callers to a source's application. */
  get endpointService(): EndpointService {
    return this.endpoints;
  }
}
