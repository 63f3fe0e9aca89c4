/**
 * The runners of the push side's background tasks: recover (failed deliveries of an
 * endpoint sent again), replay-missing (messages the endpoint never got), bulk replay
 * (messages the endpoint got, chosen by filters, sent again) and the purge of every
 * message's content of an application.
 *
 * A task interrupted by a restart (or taken over from a node that died) resumes so:
 * - recover and replay-missing run again: each takes only what is still to do when it runs
 *   (deliveries failed now; messages with no delivery to the endpoint), so what the first
 *   run sent and was delivered is not sent again;
 * - bulk replay is not idempotent (each run sends every chosen message again), so it
 *   continues after the last message its recorded checkpoint names: the messages it sent
 *   again after that record (at most about a second of work) are sent once more
 *   (at-least-once), the others are not;
 * - the purge continues from its checkpoint too (purging again would be harmless).
 */
import type { Clock } from '../../domain/clock.js';
import type { DeliveryStatus } from '../../domain/model.js';
import type { EndpointService } from '../../catalog/endpoints.js';
import type { Store } from '../../storage/contract/store.js';
import type { BackgroundTaskService, TaskContext } from './background-tasks.js';
import type { MessageService } from './messages.js';

const PAGE = 500;
/** The dispatcher is told of new due deliveries this often during a long replay (and at its end). */
const KICK_EVERY = 100;

/** A time window of a recover or replay, in epoch ms. */
export interface WindowParams {
  appId: string;
  endpointId: string;
  since: number;
  until: number | null;
}

/** Which messages a bulk replay sends again to its endpoint. */
export interface BulkReplayParams extends WindowParams {
  eventTypes?: string[] | undefined;
  channel?: string | undefined;
  tag?: string | undefined;
  /** The delivery's status to this endpoint. */
  status?: DeliveryStatus | undefined;
  /** Only messages with an attempt answered in this class (0 = no response, 100, 200 ... 500). */
  statusCodeClass?: number | undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function windowOf(p: Record<string, unknown>): WindowParams {
  const appId = str(p.appId);
  const endpointId = str(p.endpointId);
  const since = num(p.since);
  if (!appId || !endpointId || since === undefined) throw new Error('the task is missing its application, endpoint or start time');
  return { appId, endpointId, since, until: num(p.until) ?? null };
}

/** Defines the push tasks on `tasks`. */
export function definePushTasks(
  tasks: BackgroundTaskService,
  d: { store: Store; clock: Clock; endpoints: EndpointService; messages: MessageService },
): void {
  tasks.define('endpoint.recover', async (p) => {
    const w = windowOf(p);
    const recovered = await d.endpoints.recover(w.appId, w.endpointId, w.since, w.until);
    d.messages.kick(w.endpointId);
    return { recovered };
  });

  tasks.define('endpoint.replay', async (p) => {
    const w = windowOf(p);
    const replayed = await d.endpoints.replayMissing(w.appId, w.endpointId, w.since, w.until);
    d.messages.kick(w.endpointId);
    return { replayed };
  });

  tasks.define('endpoint.bulk-replay', async (p, ctx) => {
    const w = windowOf(p);
    const ep = await d.endpoints.get(w.appId, w.endpointId);
    const eventTypes = Array.isArray(p.eventTypes) ? (p.eventTypes as string[]) : undefined;
    const statusCodeClass = num(p.statusCodeClass);
    const from = resumeFrom(ctx);
    let { done, counted: replayed } = from;
    let iterator = from.after;
    for (;;) {
      const page = await d.store.listEndpointMessages(w.appId, ep.id, {
        limit: PAGE,
        iterator,
        order: 'ascending',
        after: w.since - 1,
        before: w.until ?? undefined,
        eventTypes,
        channel: str(p.channel),
        tag: str(p.tag),
        status: num(p.status),
      });
      for (const { message } of page.data) {
        ctx.signal.throwIfAborted();
        let chosen = true;
        if (statusCodeClass !== undefined) {
          const seen = await d.store.listAttemptsByMessage(w.appId, message.id, { limit: 1, endpointId: ep.id, statusCodeClass });
          chosen = seen.data.length > 0;
        }
        if (chosen) {
          await d.store.resend(message.id, ep.id, w.appId, d.clock.now());
          replayed++;
          if (replayed % KICK_EVERY === 0) d.messages.kick(ep.id);
        }
        done++;
        ctx.progress(done, null, { replayed }, { after: message.id, done, counted: replayed });
      }
      if (page.done || !page.iterator) break;
      iterator = page.iterator;
    }
    if (replayed > 0) d.messages.kick(ep.id);
    return { replayed };
  });

  tasks.define('application.purge_content', async (p, ctx) => {
    const appId = str(p.appId);
    if (!appId) throw new Error('the task is missing its application');
    const from = resumeFrom(ctx);
    let { done: expunged } = from;
    let iterator = from.after;
    for (;;) {
      const page = await d.store.listMessages(appId, { limit: PAGE, iterator, order: 'ascending' });
      for (const m of page.data) {
        ctx.signal.throwIfAborted();
        await d.store.expungeMessageContent(appId, m.id);
        expunged++;
        ctx.progress(expunged, null, { expunged }, { after: m.id, done: expunged, counted: expunged });
      }
      if (page.done || !page.iterator) break;
      iterator = page.iterator;
    }
    return { expunged };
  });
}

/** Where a paged runner continues: after the message its checkpoint names, with its counts; from the start without one. */
function resumeFrom(ctx: TaskContext): { after: string | undefined; done: number; counted: number } {
  const cp = ctx.task.checkpoint;
  return { after: str(cp?.after), done: num(cp?.done) ?? 0, counted: num(cp?.counted) ?? 0 };
}
