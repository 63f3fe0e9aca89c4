/**
 * /api/v1/stream/{stream_id}/sink: sinks, their secret, headers and transformation, and two
 * extensions of this server: `replay` (move the cursor back) and `attempt` (delivery attempts).
 */
import type { StreamService } from '../../../bridges/streams/streams.js';
import { iteratorOf } from '../../../bridges/streams/streams.js';
import type { RoutePlugin } from '../../route-plugin.js';
import { listOut } from '../../serialize.js';
import * as S from '../../schemas.js';
import { pageOf, timeParam } from '../common.js';
import * as X from './stream-schemas.js';
import { attemptOut, sinkOut } from './stream-out.js';
import { scopedSink, scopedStream } from './stream-scope.js';

const tags = ['stream-sink'];
const config = { access: 'stream' as const };
const base = '/api/v1/stream/:stream_id/sink';

/** The body's config as the service takes it (null: none sent). */
const configOf = (c: Record<string, unknown> | null | undefined) => c ?? undefined;

export const streamSinkRoutes =
  (svc: StreamService): RoutePlugin =>
  async (app) => {
    app.get(
      base,
      { config, schema: { tags, params: X.streamParams, querystring: { type: 'object', properties: S.pageQuery }, response: { 200: S.listOf(X.sinkOut) } } },
      async (req) => {
        const s = await scopedStream(req, svc, req.params.stream_id);
        return listOut(await svc.listSinks(s.id, pageOf(req.query)), sinkOut);
      },
    );

    app.post(base, { config, schema: { tags, params: X.streamParams, body: X.sinkIn, response: { 201: X.sinkOut } } }, async (req, reply) => {
      const s = await scopedStream(req, svc, req.params.stream_id);
      return reply.code(201).send(sinkOut(await svc.createSink(s.id, { ...req.body, config: configOf(req.body.config) })));
    });

    app.get(`${base}/:sink_id`, { config, schema: { tags, params: X.sinkParams, response: { 200: X.sinkOut } } }, async (req) =>
      sinkOut(await scopedSink(req, svc, req.params.stream_id, req.params.sink_id)),
    );

    app.put(`${base}/:sink_id`, { config, schema: { tags, params: X.sinkParams, body: X.sinkIn, response: { 200: X.sinkOut } } }, async (req) => {
      const sink = await scopedSink(req, svc, req.params.stream_id, req.params.sink_id);
      return sinkOut(await svc.updateSink(sink.streamId, sink.id, { ...req.body, config: configOf(req.body.config) }, true));
    });

    app.patch(`${base}/:sink_id`, { config, schema: { tags, params: X.sinkParams, body: X.sinkPatch, response: { 200: X.sinkOut } } }, async (req) => {
      const sink = await scopedSink(req, svc, req.params.stream_id, req.params.sink_id);
      return sinkOut(await svc.updateSink(sink.streamId, sink.id, { ...req.body, config: configOf(req.body.config) }, false));
    });

    app.delete(`${base}/:sink_id`, { config, schema: { tags, params: X.sinkParams, response: { 204: S.noContent } } }, async (req, reply) => {
      const sink = await scopedSink(req, svc, req.params.stream_id, req.params.sink_id);
      await svc.deleteSink(sink.streamId, sink.id);
      return reply.code(204).send();
    });

    app.get(`${base}/:sink_id/secret`, { config, schema: { tags, params: X.sinkParams, response: { 200: X.secretOut } } }, async (req, reply) => {
      const sink = await scopedSink(req, svc, req.params.stream_id, req.params.sink_id);
      return reply.header('cache-control', 'no-store').send({ key: sink.secret });
    });

    app.post(
      `${base}/:sink_id/secret/rotate`,
      { config, schema: { tags, params: X.sinkParams, body: S.secretRotateIn, response: { 204: S.noContent } } },
      async (req, reply) => {
        const sink = await scopedSink(req, svc, req.params.stream_id, req.params.sink_id);
        await svc.rotateSecret(sink.streamId, sink.id, req.body?.key);
        return reply.code(204).send();
      },
    );

    app.get(`${base}/:sink_id/headers`, { config, schema: { tags, params: X.sinkParams, response: { 200: X.headersOut } } }, async (req) => {
      const sink = await scopedSink(req, svc, req.params.stream_id, req.params.sink_id);
      return svc.headers(sink.streamId, sink.id);
    });

    app.patch(
      `${base}/:sink_id/headers`,
      { config, schema: { tags, params: X.sinkParams, body: X.headersPatchIn, response: { 200: X.headersOut } } },
      async (req) => {
        const sink = await scopedSink(req, svc, req.params.stream_id, req.params.sink_id);
        return svc.patchHeaders(sink.streamId, sink.id, req.body.headers);
      },
    );

    app.get(`${base}/:sink_id/transformation`, { config, schema: { tags, params: X.sinkParams, response: { 200: X.transformationOut } } }, async (req) => {
      const sink = await scopedSink(req, svc, req.params.stream_id, req.params.sink_id);
      return { code: sink.transformationCode, enabled: sink.transformationEnabled };
    });

    app.patch(
      `${base}/:sink_id/transformation`,
      { config, schema: { tags, params: X.sinkParams, body: X.transformationIn, response: { 204: S.noContent } } },
      async (req, reply) => {
        const sink = await scopedSink(req, svc, req.params.stream_id, req.params.sink_id);
        await svc.patchTransformation(sink.streamId, sink.id, req.body?.code);
        return reply.code(204).send();
      },
    );

    app.post(
      `${base}/:sink_id/replay`,
      {
        config,
        schema: {
          tags,
          summary: 'Deliver again from an iterator or a time (a Switchboard extension)',
          params: X.sinkParams,
          body: X.replayIn,
          response: { 202: X.replayOut },
        },
      },
      async (req, reply) => {
        const sink = await scopedSink(req, svc, req.params.stream_id, req.params.sink_id);
        const cursor = await svc.replay(sink.streamId, sink.id, { iterator: req.body.iterator, since: timeParam(req.body.since, ['body', 'since']) });
        return reply.code(202).send({ currentIterator: iteratorOf(cursor) });
      },
    );

    app.get(
      `${base}/:sink_id/attempt`,
      {
        config,
        schema: {
          tags,
          summary: "The sink's delivery attempts, newest first (a Switchboard extension)",
          params: X.sinkParams,
          querystring: { type: 'object', properties: S.pageQuery },
          response: { 200: S.listOf(X.attemptOut) },
        },
      },
      async (req) => {
        const sink = await scopedSink(req, svc, req.params.stream_id, req.params.sink_id);
        return listOut(await svc.attempts(sink.streamId, sink.id, pageOf(req.query)), attemptOut);
      },
    );
  };
