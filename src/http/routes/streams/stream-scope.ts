/**
 * What a stream route may touch: an admin reaches every stream; a stream portal token only
 * its stream (another stream answers 404, as if missing); a stream poller token only its sink.
 */
import type { FastifyRequest } from 'fastify';
import { AppError, notFound } from '../../../domain/errors.js';
import type { StreamService } from '../../../bridges/streams/streams.js';
import type { SinkRecord, StreamRecord } from '../../../storage/contract/streams.js';

/** The stream named by the route, if the caller may use it. */
export async function scopedStream(req: FastifyRequest, svc: StreamService, idOrUid: string): Promise<StreamRecord> {
  const s = await svc.get(idOrUid);
  const p = req.principal;
  if (p?.kind === 'stream' && p.streamId !== s.id) throw notFound('Stream');
  return s;
}

/** The sink named by the route, if the caller may use it. */
export async function scopedSink(req: FastifyRequest, svc: StreamService, streamIdOrUid: string, sinkIdOrUid: string): Promise<SinkRecord> {
  const s = await scopedStream(req, svc, streamIdOrUid);
  const sink = await svc.getSink(s.id, sinkIdOrUid);
  const p = req.principal;
  if (p?.kind === 'stream' && p.sinkId !== null && p.sinkId !== sink.id) throw new AppError('forbidden', 'this poller token reads another sink');
  return sink;
}
