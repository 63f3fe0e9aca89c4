/**
 * The usage aggregations of the compatible API, run as background tasks: messages per
 * application in a window (`application.stats`) and the event types seen in messages
 * (`event-type.aggregate`). Both only read, so a task interrupted by a restart runs again.
 */
import type { UsageStore } from '../../storage/contract/usage.js';
import type { BackgroundTaskService } from './background-tasks.js';

export function defineUsageTasks(tasks: BackgroundTaskService, usage: UsageStore): void {
  tasks.define('application.stats', async (p) => {
    const appIds = Array.isArray(p.appIds) ? (p.appIds as string[]) : null;
    if (typeof p.since !== 'number' || typeof p.until !== 'number') throw new Error('the task is missing its window');
    const counts = await usage.messagesPerApplication(appIds, p.since, p.until);
    const found = new Map(counts.map((c) => [c.appId, c.messages]));
    // Every application asked for is listed, with 0 when it had no message in the window.
    const apps = appIds === null ? counts : appIds.map((appId) => ({ appId, messages: found.get(appId) ?? 0 }));
    return { since: new Date(p.since).toISOString(), until: new Date(p.until).toISOString(), apps };
  });

  tasks.define('event-type.aggregate', async () => ({ eventTypes: await usage.eventTypesSeen() }));
}
