/** Reading and changing an endpoint's transformation (the `/transformation` resources). */
import type { Clock } from '../domain/clock.js';
import type { EndpointTransformation } from '../domain/model.js';
import type { Store } from '../storage/contract/store.js';
import type { EndpointService } from './endpoints.js';
import type { TransformService } from '../engine/transformations/transformer.js';

export interface TransformPatch {
  code?: string | null | undefined;
  enabled?: boolean | undefined;
  variables?: Record<string, string> | null | undefined;
}

export class TransformSettings {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly endpoints: EndpointService,
    readonly transforms: TransformService,
  ) {}

  /** The endpoint's transformation, or the empty one (never set). */
  async get(appId: string, endpointId: string): Promise<EndpointTransformation & { set: boolean }> {
    const ep = await this.endpoints.get(appId, endpointId);
    if (!ep.transformation) return { code: null, enabled: false, variables: null, updatedAt: ep.updatedAt, set: false };
    return { ...ep.transformation, set: true };
  }

  /** Changes code, enabled flag or variables; new code is checked before it is saved. */
  async patch(appId: string, endpointId: string, p: TransformPatch): Promise<EndpointTransformation> {
    if (typeof p.code === 'string') await this.transforms.checkCode(p.code);
    const ep = { ...(await this.endpoints.get(appId, endpointId)) };
    const now = this.clock.now();
    const cur = ep.transformation ?? { code: null, enabled: false, variables: null, updatedAt: now };
    const next: EndpointTransformation = {
      code: p.code !== undefined ? p.code : cur.code,
      enabled: p.enabled ?? cur.enabled,
      variables: p.variables !== undefined ? p.variables : cur.variables,
      updatedAt: now,
    };
    ep.transformation = next;
    ep.updatedAt = now;
    await this.store.updateEndpoint(ep);
    this.endpoints.invalidate(ep.appId);
    this.transforms.forget(ep.id);
    return next;
  }
}
