/**
 * GET /api/v1/app/{app_id}/endpoint/{endpoint_id}/circuit (a Switchboard extension): the
 * circuit breakers a delivery to the endpoint passes through on the node that answers, the
 * endpoint's own and its destination origin's. Breakers are kept in memory per node.
 */
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { nameSchema } from '../../openapi.js';
import type { CircuitState } from '../../../engine/circuit-breaker.js';
import * as S from '../../schemas.js';

const epParams = {
  type: 'object',
  required: ['app_id', 'endpoint_id'],
  properties: { app_id: { type: 'string', minLength: 1, maxLength: 256 }, endpoint_id: { type: 'string', minLength: 1, maxLength: 256 } },
} as const;

const circuitStateProps = {
  state: { type: 'string', enum: ['closed', 'open', 'half-open'], description: 'closed: deliveries are sent; open: nothing is sent until `nextProbeAt`; half-open: one probe delivery decides.' },
  consecutiveFailures: { type: 'integer', minimum: 0, description: 'Failed attempts in a row (connection error, timeout, 5xx).' },
  openedAt: { ...S.S.dateTime, type: ['string', 'null'], description: 'When the circuit last opened; null while closed.' },
  nextProbeAt: { ...S.S.dateTime, type: ['string', 'null'], description: 'When a probe delivery may go through; null while closed.' },
} as const;

const circuitStateOut = {
  type: 'object',
  required: ['state', 'consecutiveFailures', 'openedAt', 'nextProbeAt'],
  properties: circuitStateProps,
  additionalProperties: false,
} as const;

export const endpointCircuitOut = {
  type: 'object',
  required: ['endpoint', 'origin'],
  description: 'The circuit breakers of the node that answered (each node keeps its own).',
  properties: {
    endpoint: circuitStateOut,
    origin: {
      description: "The circuit of the endpoint URL's origin (scheme, host and port), shared by every endpoint there; null if the URL has none.",
      anyOf: [
        {
          type: 'object',
          required: ['origin', 'state', 'consecutiveFailures', 'openedAt', 'nextProbeAt'],
          properties: { origin: { type: 'string' }, ...circuitStateProps },
          additionalProperties: false,
        },
        { type: 'null' },
      ],
    },
  },
  additionalProperties: false,
} as const;
nameSchema('EndpointCircuitOut', endpointCircuitOut);

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const stateOut = (s: CircuitState) => ({ state: s.state, consecutiveFailures: s.consecutiveFailures, openedAt: iso(s.openedAt), nextProbeAt: iso(s.nextProbeAt) });

export const circuitRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const circuits = deps.circuits;
    if (!circuits) return;
    app.get(
      '/api/v1/app/:app_id/endpoint/:endpoint_id/circuit',
      {
        schema: {
          tags: ['endpoint'],
          summary: "The endpoint's circuit breakers on this node (Switchboard extension)",
          params: epParams,
          response: { 200: endpointCircuitOut },
        },
      },
      async (req) => {
        const a = await deps.applications.get(req.params.app_id);
        const ep = await deps.endpoints.get(a.id, req.params.endpoint_id);
        const c = circuits.circuitsOf(ep);
        return { endpoint: stateOut(c.endpoint), origin: c.origin === null ? null : { origin: c.origin.origin, ...stateOut(c.origin) } };
      },
    );
  };
