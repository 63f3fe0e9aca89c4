/** /api/v1/app */
import type { AppDeps } from '../../deps.js';
import type { RoutePlugin } from '../../route-plugin.js';
import type { Application } from '../../../domain/model.js';
import { applicationOut, listOut } from '../../serialize.js';
import * as S from '../../schemas.js';
import { pageOf } from '../common.js';

/** `rateLimit` is an alias of `throttleRate`; a `throttleRate` that is not null wins. */
const rateOf = (b: { throttleRate?: number | null; rateLimit?: number | null }): number | null | undefined => b.throttleRate ?? b.rateLimit;

export const applicationRoutes =
  (deps: AppDeps): RoutePlugin =>
  async (app) => {
    const svc = deps.applications;
    const out = { 200: S.applicationOut, 201: S.applicationOut };

    app.get(
      '/api/v1/app',
      { schema: { tags: ['application'], querystring: { type: 'object', properties: S.pageQuery }, response: { 200: S.listOf(S.applicationOut) } } },
      async (req) => listOut(await svc.list(pageOf(req.query)), applicationOut),
    );

    app.post(
      '/api/v1/app',
      {
        schema: {
          tags: ['application'],
          body: S.applicationIn,
          querystring: { type: 'object', properties: { get_if_exists: { type: 'boolean', default: false } } },
          response: out,
        },
      },
      async (req, reply) => {
        const b = req.body;
        const { app: a, created } = await svc.create(
          { name: b.name, uid: b.uid, throttleRate: rateOf(b), metadata: b.metadata, headerStyle: b.headerStyle },
          req.query.get_if_exists === true,
        );
        return reply.code(created ? 201 : 200).send(applicationOut(a));
      },
    );

    app.get(
      '/api/v1/app/:app_id',
      { schema: { tags: ['application'], params: S.appParams, response: { 200: S.applicationOut } } },
      async (req) => applicationOut(await svc.get(req.params.app_id)),
    );

    app.put(
      '/api/v1/app/:app_id',
      { schema: { tags: ['application'], params: S.appParams, body: S.applicationIn, response: out } },
      async (req, reply) => {
        const b = req.body;
        const { app: a, created } = await svc.upsert(req.params.app_id, {
          name: b.name,
          uid: b.uid,
          throttleRate: rateOf(b),
          metadata: b.metadata,
          headerStyle: b.headerStyle,
        });
        return reply.code(created ? 201 : 200).send(applicationOut(a));
      },
    );

    app.patch(
      '/api/v1/app/:app_id',
      { schema: { tags: ['application'], params: S.appParams, body: S.applicationPatch, response: { 200: S.applicationOut } } },
      async (req) => {
        const b = req.body;
        const a: Application = await svc.patch(req.params.app_id, {
          name: b.name,
          uid: b.uid,
          throttleRate: rateOf(b),
          metadata: b.metadata,
          headerStyle: b.headerStyle,
        });
        return applicationOut(a);
      },
    );

    app.delete(
      '/api/v1/app/:app_id',
      { schema: { tags: ['application'], params: S.appParams, response: { 204: S.noContent } } },
      async (req, reply) => {
        await svc.delete(req.params.app_id);
        return reply.code(204).send();
      },
    );
  };
