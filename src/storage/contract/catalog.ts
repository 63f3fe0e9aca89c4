/** Storage of the catalog: applications, their endpoints, and event types. */
import type { Application, Endpoint, EventType } from '../../domain/model.js';
import type { Page, PageQuery } from './paging.js';

/** Applications, event types and endpoints. */
export interface CatalogStore {
  createApplication(app: Application): Promise<void>;
  /** By id or uid. */
  getApplication(idOrUid: string): Promise<Application | null>;
  listApplications(q: PageQuery): Promise<Page<Application>>;
  updateApplication(app: Application): Promise<void>;
  deleteApplication(id: string): Promise<void>;

  createEventType(et: EventType): Promise<void>;
  getEventType(name: string): Promise<EventType | null>;
  listEventTypes(q: PageQuery & { includeArchived: boolean }): Promise<Page<EventType>>;
  updateEventType(et: EventType): Promise<void>;
  deleteEventType(name: string): Promise<void>;

  createEndpoint(ep: Endpoint): Promise<void>;
  /** By id or uid, within the application. */
  getEndpoint(appId: string, idOrUid: string): Promise<Endpoint | null>;
  listEndpoints(appId: string, q: PageQuery): Promise<Page<Endpoint>>;
  /** Every endpoint of the application, for fan-out. */
  allEndpoints(appId: string): Promise<Endpoint[]>;
  /** Saves the endpoint; disabling it fails its deliveries not yet in flight. */
  updateEndpoint(ep: Endpoint): Promise<void>;
  deleteEndpoint(appId: string, id: string): Promise<void>;
}
