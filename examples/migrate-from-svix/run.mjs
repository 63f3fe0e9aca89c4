/**
 * Migrating from Svix: code written for Svix (applications, event types, endpoints, publish,
 * attempts, recover) runs unchanged against Switchboard; only the SDK's `serverUrl` and the
 * token change. The receiver is Svix-style too: it reads `svix-id` and verifies with the
 * `svix` package's own `Webhook` verifier, so the application is set to send `svix-*` headers,
 * the one Switchboard setting the migration needs (docs/compatibility.md).
 *
 *   node examples/migrate-from-svix/run.mjs
 */
import { randomBytes } from 'node:crypto';
import { MessageStatus, Svix, Webhook } from 'svix';
import { check, example, waitFor } from '../common.mjs';

// A failed delivery is retried once, after a second (the default schedule starts at 5 s),
// so the message that arrives while the receiver is down fails for good quickly.
const settings = { SWITCHBOARD_RETRY_SCHEDULE: '1' };

await example('migrate-from-svix', settings, async ({ url, token, api, receiver }) => {
  // --- The migration: point the SDK at Switchboard, with a Switchboard token.
  const svix = new Svix(token, { serverUrl: url });

  // --- The receiver, as written for Svix: verifies with svix's Webhook, deduplicates on svix-id.
  // The endpoint's secret as Svix had it (svix.endpoint.getSecret there): the receiver keeps it.
  const inbox = { secret: 'whsec_' + randomBytes(24).toString('base64'), down: false, seen: new Map(), refused: 0 };
  const { url: receiverUrl } = await receiver(({ headers, body }) => {
    if (inbox.down) return 503;
    let payload;
    try {
      payload = new Webhook(inbox.secret).verify(body, headers);
    } catch {
      inbox.refused++;
      return 400;
    }
    inbox.seen.set(headers['svix-id'], { payload, headers, raw: body });
    return 204;
  });

  // --- The existing Svix code, unchanged.
  const app = await svix.application.getOrCreate({ name: 'Acme Corp', uid: 'acme' });
  await svix.eventType.create({ name: 'invoice.paid', description: 'An invoice was paid' }).catch((e) => {
    if (e?.code !== 409) throw e; // already there from an earlier run
  });
  const endpoint = await svix.endpoint.create(app.id, { url: `${receiverUrl}/webhooks/svix`, filterTypes: ['invoice.paid'], description: 'billing', secret: inbox.secret });
  check((await svix.endpoint.getSecret(app.id, endpoint.id)).key === inbox.secret, 'the endpoint signs with the secret carried over');

  // --- One Switchboard setting: svix-* signature headers for this application (the default is webhook-*).
  await api('PATCH', `/api/v1/app/${app.id}`, { headerStyle: 'svix' });

  const since = new Date(Date.now() - 1000);
  const first = await svix.message.create(app.id, { eventType: 'invoice.paid', eventId: `inv_1_${Date.now()}`, payload: { invoice: 'inv_1', amount: 4200 } });
  const got = await waitFor('the first webhook', () => inbox.seen.get(first.id));
  check(got.payload.invoice === 'inv_1', `verified payload: ${JSON.stringify(got.payload)}`);
  check(got.headers['svix-signature']?.startsWith('v1,') && got.headers['webhook-id'] === undefined, 'svix-* headers only');
  const attempts = await waitFor('the first attempt', async () => (await svix.messageAttempt.listByMsg(app.id, first.id)).data[0]);
  check(attempts.status === MessageStatus.Success && attempts.responseStatusCode === 204, `attempt: ${JSON.stringify(attempts)}`);

  // The receiver goes down; a message sent meanwhile fails for good, then recover sends it again.
  inbox.down = true;
  const second = await svix.message.create(app.id, { eventType: 'invoice.paid', payload: { invoice: 'inv_2', amount: 990 } });
  await waitFor('the second message to fail', async () => {
    const failed = await svix.messageAttempt.listByMsg(app.id, second.id, { status: MessageStatus.Fail });
    return failed.data.length >= 2;
  });
  inbox.down = false;
  const task = await svix.endpoint.recover(app.id, endpoint.id, { since });
  const done = await waitFor('the recovery to end', async () => {
    const t = await svix.backgroundTask.get(task.id);
    return t.status === 'running' ? null : t;
  });
  check(done.status === 'finished' && done.data.recovered === 1, `recovery: ${JSON.stringify(done)}`);
  const recovered = await waitFor('the recovered webhook', () => inbox.seen.get(second.id));
  check(recovered.payload.invoice === 'inv_2' && inbox.refused === 0, 'the recovered message verifies');

  // --- During a move, receivers of both kinds: headerStyle `both` sends each set, and each verifies alone.
  await api('PATCH', `/api/v1/app/${app.id}`, { headerStyle: 'both' });
  const third = await svix.message.create(app.id, { eventType: 'invoice.paid', payload: { invoice: 'inv_3', amount: 15 } });
  const both = await waitFor('the webhook with both header sets', () => inbox.seen.get(third.id));
  const only = (prefix) => Object.fromEntries(Object.entries(both.headers).filter(([name]) => !/^(svix|webhook)-/.test(name) || name.startsWith(prefix)));
  check(both.headers['svix-signature'] === both.headers['webhook-signature'] && both.headers['svix-id'] === both.headers['webhook-id'], 'both header sets, with the same values');
  check(new Webhook(inbox.secret).verify(both.raw, only('svix-')).invoice === 'inv_3', 'svix-* headers verify alone');
  check(new Webhook(inbox.secret).verify(both.raw, only('webhook-')).invoice === 'inv_3', 'webhook-* headers verify alone');

  // --- What Svix's cloud never met: an endpoint on a private network is refused (SSRF guard),
  // with the setting that would allow it named (docs/compatibility.md).
  const refused = await svix.endpoint.create(app.id, { url: 'http://192.0.2.10/webhooks' }).then(
    () => null,
    (e) => e,
  );
  check(refused?.code === 422 && JSON.stringify(refused.body).includes('SWITCHBOARD_ALLOWED_NETWORKS'), `a private address is refused, naming the setting: ${JSON.stringify(refused?.body ?? refused)}`);

  return `Svix code ran unchanged; ${inbox.seen.size} webhooks verified with svix's Webhook from svix-* headers (one recovered, one with both header sets), and a private endpoint address refused`;
});
