/**
 * Payment notifications: Stripe sends signed webhooks to a Switchboard ingest source, which
 * checks Stripe's signature, drops the events Stripe sends twice, and forwards each payment
 * once to an internal order service, at most 5 a second. A forged request is refused.
 *
 *   node examples/payment-notifications/run.mjs
 */
import Stripe from 'stripe';
import { Webhook } from 'standardwebhooks';
import { check, example, waitFor } from '../common.mjs';

await example('payment-notifications', {}, async ({ svix, api, receiver }) => {
  // --- The order service: accepts only requests signed by Switchboard with its endpoint secret.
  const orders = { paid: new Map(), arrivals: [], badSignatures: 0, secret: null };
  const orderService = await receiver(({ headers, body }) => {
    let event;
    try {
      event = new Webhook(orders.secret).verify(body, headers);
    } catch {
      orders.badSignatures++;
      return 401;
    }
    const payment = event.data.object;
    orders.paid.set(payment.metadata.order_id, (orders.paid.get(payment.metadata.order_id) ?? 0) + 1);
    orders.arrivals.push(Date.now());
    return 200;
  });

  // --- A Stripe source, and the order service as its endpoint, with a rate limit.
  const stripeSecret = 'whsec_' + 'example'.repeat(4); // what Stripe's dashboard shows for a webhook endpoint
  const source = await svix.ingest.source.create({ name: 'Stripe payments', type: 'stripe', config: { secret: stripeSecret } });
  const endpoint = await svix.ingest.endpoint.create(source.id, { url: orderService.url + '/stripe', throttleRate: 5, description: 'order service' });
  orders.secret = (await svix.ingest.endpoint.getSecret(source.id, endpoint.id)).key;

  // --- Stripe calls the ingest URL. Its own library makes the Stripe-Signature header.
  const stripe = new Stripe('sk_test_not_used_offline');
  async function stripeSends(event, secret = stripeSecret) {
    const payload = JSON.stringify(event);
    const res = await fetch(source.ingestUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret }) },
      body: payload,
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  }
  const paymentSucceeded = (n) => ({
    id: `evt_example_${n}`,
    object: 'event',
    type: 'payment_intent.succeeded',
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: `pi_example_${n}`, object: 'payment_intent', amount: 1000 + n, currency: 'eur', metadata: { order_id: `order_${n}` } } },
  });

  // Twelve payments arrive in a burst: each is answered 200 as soon as it is stored.
  const sent = await Promise.all(Array.from({ length: 12 }, (_, i) => stripeSends(paymentSucceeded(i + 1))));
  check(sent.every((r) => r.status === 200 && r.body.id && !r.body.duplicate), `first deliveries: ${JSON.stringify(sent)}`);

  // Stripe retries three of them (it did not see our 200 in time, say): recognised, not forwarded again.
  const again = await Promise.all([3, 7, 7].map((n) => stripeSends(paymentSucceeded(n))));
  check(again.every((r) => r.status === 200 && r.body.duplicate === true), `retries: ${JSON.stringify(again)}`);

  // Someone who does not know the secret tries to mark an order paid.
  const forged = await stripeSends(paymentSucceeded(99), 'whsec_guessed');
  check(forged.status === 401, `a forged request was answered ${forged.status}`);

  // --- The order service gets each payment once, at most 5 a second.
  await waitFor('the order service to receive 12 payments', () => orders.paid.size === 12);
  const stats = await waitFor('the deliveries to be recorded', async () => {
    const s = await svix.endpoint.getStats(source.id, endpoint.id);
    return s.pending + s.sending === 0 && s;
  });
  check(stats.success === 12 && stats.fail === 0, `delivery stats: ${JSON.stringify(stats)}`);
  check([...orders.paid.values()].every((n) => n === 1), `some payment arrived more than once: ${JSON.stringify([...orders.paid])}`);
  check(!orders.paid.has('order_99'), 'the forged payment reached the order service');
  check(orders.badSignatures === 0, 'the order service saw a bad signature');

  // The refused request is in the source's log, with the reason.
  const { data: log } = await api('GET', `/ingest/api/v1/source/${source.id}/log`);
  check(log.some((l) => l.status_code === 401 && /signature/i.test(l.error_text)), `source log: ${JSON.stringify(log)}`);

  const spread = (orders.arrivals.at(-1) - orders.arrivals[0]) / 1000;
  return `12 payments forwarded once each (3 retries dropped as duplicates, 1 forged request refused: "${log[0].error_text}"); the burst reached the order service over ${spread.toFixed(1)} s at a limit of 5/s`;
});
