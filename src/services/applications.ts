/** Use cases for applications. */
import type { Clock } from '../domain/clock.js';
import { notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Application, HeaderStyle, Metadata } from '../domain/model.js';
import type { Page, PageQuery, Store } from '../storage/store.js';

export interface ApplicationInput {
  name: string;
  uid?: string | null | undefined;
  throttleRate?: number | null | undefined;
  metadata?: Metadata | undefined;
  headerStyle?: HeaderStyle | undefined;
}

export class ApplicationService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Creates an application; with `getIfExists`, returns the one already holding the uid. */
  async create(input: ApplicationInput, getIfExists = false): Promise<{ app: Application; created: boolean }> {
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

  async get(idOrUid: string): Promise<Application> {
    const app = await this.store.getApplication(idOrUid);
    if (!app) throw notFound('Application');
    return app;
  }

  list(q: PageQuery): Promise<Page<Application>> {
    return this.store.listApplications(q);
  }

  /** PUT: replaces the application, or creates it with the path's value as uid. */
  async upsert(idOrUid: string, input: ApplicationInput): Promise<{ app: Application; created: boolean }> {
    const existing = await this.store.getApplication(idOrUid);
    if (!existing) return this.create({ ...input, uid: input.uid ?? idOrUid });
    const app: Application = {
      ...existing,
      name: input.name,
      uid: input.uid ?? existing.uid,
      throttleRate: input.throttleRate ?? null,
      metadata: input.metadata ?? {},
      headerStyle: input.headerStyle ?? existing.headerStyle,
      updatedAt: this.clock.now(),
    };
    await this.store.updateApplication(app);
    return { app, created: false };
  }

  async patch(idOrUid: string, patch: Partial<ApplicationInput>): Promise<Application> {
    const existing = await this.get(idOrUid);
    const app: Application = { ...existing, updatedAt: this.clock.now() };
    if (patch.name !== undefined) app.name = patch.name;
    if (patch.uid !== undefined) app.uid = patch.uid;
    if (patch.throttleRate !== undefined) app.throttleRate = patch.throttleRate === 0 ? null : patch.throttleRate;
    if (patch.metadata !== undefined) app.metadata = patch.metadata;
    if (patch.headerStyle !== undefined) app.headerStyle = patch.headerStyle;
    await this.store.updateApplication(app);
    return app;
  }

  async delete(idOrUid: string): Promise<void> {
    const app = await this.get(idOrUid);
    await this.store.deleteApplication(app.id);
  }
}
