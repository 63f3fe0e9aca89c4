/** Use cases for applications. */
import type { Clock } from '../domain/clock.js';
import { notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Application, HeaderStyle, Metadata } from '../domain/model.js';
import type { Page, PageQuery, Store } from '../storage/contract/store.js';
import { checkUid } from '../domain/uid.js';

export interface ApplicationInput {
  name: string;
  uid?: string | null | undefined;
  throttleRate?: number | null | undefined;
  metadata?: Metadata | undefined;
  headerStyle?: HeaderStyle | undefined;
}

export class ApplicationService {
  /** Recently read applications by id and uid: publish looks one up on every call. */
  private readonly cache = new Map<string, { at: number; app: Application }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** How long a cached application may be used (other nodes' changes show after this). */
    private readonly cacheMs = 1000,
  ) {}

  /** Like `get`, but may answer from a cache at most `cacheMs` old; null if absent. */
  async find(idOrUid: string): Promise<Application | null> {
    const now = this.clock.now();
    const hit = this.cache.get(idOrUid);
    if (hit && now - hit.at <= this.cacheMs) return hit.app;
    const app = await this.store.getApplication(idOrUid);
    if (!app) return null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(idOrUid, { at: now, app });
    return app;
  }

  private forget(app: Application): void {
    this.cache.delete(app.id);
    if (app.uid) this.cache.delete(app.uid);
  }

  /** Creates an application; with `getIfExists`, returns the one already holding the uid. */
  async create(input: ApplicationInput, getIfExists = false): Promise<{ app: Application; created: boolean }> {
    checkUid(input.uid, ['body', 'uid']);
    return this.insert(input, getIfExists);
  }

  /**
   * The application an object Switchboard issued owns (an ingest source's), with that
   * object's id as its uid: callers can never claim such a uid (`checkUid`), so no one
   * else's application can take its place.
   */
  async createOwnedBy(ownerId: string, input: Omit<ApplicationInput, 'uid'>): Promise<Application> {
    return (await this.insert({ ...input, uid: ownerId }, true)).app;
  }

  private async insert(input: ApplicationInput, getIfExists: boolean): Promise<{ app: Application; created: boolean }> {
    if (getIfExists && input.uid) {
      const existing = await this.store.getApplication(input.uid);
      if (existing) return { app: existing, created: false };
    }
    const now = this.clock.now();
    const app: Application = {
      id: newId('application', now),
      uid: input.uid ?? null,
      name: input.name,
      throttleRate: input.throttleRate ?? null,
      metadata: input.metadata ?? {},
      headerStyle: input.headerStyle ?? 'standard',
      createdAt: now,
      updatedAt: now,
    };
    await this.store.createApplication(app);
    return { app, created: true };
  }

  /**
   * The application by id or uid; if there is none and `input` is given, creates it with the
   * id or uid as its uid (unless `input` names one). Null when absent and nothing to create.
   */
  async findOrCreate(idOrUid: string, input: ApplicationInput | undefined): Promise<Application | null> {
    const found = await this.find(idOrUid);
    if (found || !input) return found;
    if (input.uid === undefined || input.uid === null) checkUid(idOrUid, ['path', 'app_id']);
    return (await this.create({ ...input, uid: input.uid ?? idOrUid }, true)).app;
  }

  async get(idOrUid: string): Promise<Application> {
    const app = await this.find(idOrUid);
    if (!app) throw notFound('Application');
    return app;
  }

  list(q: PageQuery): Promise<Page<Application>> {
    return this.store.listApplications(q);
  }

  /** PUT: replaces the application, or creates it with the path's value as uid. */
  async upsert(idOrUid: string, input: ApplicationInput): Promise<{ app: Application; created: boolean }> {
    const existing = await this.store.getApplication(idOrUid);
    if (!existing) {
      if (input.uid === undefined || input.uid === null) checkUid(idOrUid, ['path', 'app_id']);
      return this.create({ ...input, uid: input.uid ?? idOrUid });
    }
    if (input.uid !== existing.uid) checkUid(input.uid, ['body', 'uid']);
    const app: Application = {
      ...existing,
      name: input.name,
      uid: input.uid ?? existing.uid,
      throttleRate: input.throttleRate ?? null,
      metadata: input.metadata ?? {},
      headerStyle: input.headerStyle ?? existing.headerStyle,
      updatedAt: this.clock.now(),
    };
    this.forget(existing);
    await this.store.updateApplication(app);
    return { app, created: false };
  }

  async patch(idOrUid: string, patch: Partial<ApplicationInput>): Promise<Application> {
    const existing = await this.get(idOrUid);
    this.forget(existing);
    const app: Application = { ...existing, updatedAt: this.clock.now() };
    if (patch.name !== undefined) app.name = patch.name;
    if (patch.uid !== undefined && patch.uid !== existing.uid) {
      checkUid(patch.uid, ['body', 'uid']);
      app.uid = patch.uid;
    }
    if (patch.throttleRate !== undefined) app.throttleRate = patch.throttleRate === 0 ? null : patch.throttleRate;
    if (patch.metadata !== undefined) app.metadata = patch.metadata;
    if (patch.headerStyle !== undefined) app.headerStyle = patch.headerStyle;
    await this.store.updateApplication(app);
    return app;
  }

  async delete(idOrUid: string): Promise<void> {
    const app = await this.get(idOrUid);
    this.forget(app);
    await this.store.deleteApplication(app.id);
  }
}
