/**
 * Inventory sync: a shop publishes `inventory.updated` (and `price.updated`, `product.reviewed`)
 * whenever something changes; three sales channels keep their own copy through webhooks, each
 * subscribed to the event types it needs. The marketplace is down for a while and catches up
 * through retries. At the end every channel's numbers match the shop's.
 *
 *   node examples/inventory-sync/run.mjs
 */
import { Webhook } from 'standardwebhooks';
import { check, example, waitFor } from '../common.mjs';

// Failed deliveries are retried after 1, 1, 2, 2 and 5 seconds (the default schedule starts at 5 s).
const settings = { SWITCHBOARD_RETRY_SCHEDULE: '1,1,2,2,5' };

await example('inventory-sync', settings, async ({ svix, receiver }) => {
  // --- The sales channels: each verifies every webhook and applies what is newer than what it has.
  function salesChannel(name) {
    const channel = { name, secret: null, stock: {}, prices: {}, reviews: 0, received: new Set(), refused: new Set(), down: false, forged: 0 };
    channel.start = async () => {
      const { url } = await receiver(({ headers, body }) => {
        if (channel.down) {
          channel.refused.add(headers['webhook-id']);
          return 503;
        }
        let event;
        try {
          event = new Webhook(channel.secret).verify(body, headers);
        } catch {
          channel.forged++;
          return 400;
        }
        // Deliveries are at least once and retries arrive late: keep the newest version per item.
        channel.received.add(headers['webhook-id']);
        if (event.type === 'inventory.updated') keepNewest(channel.stock, event.sku, event.quantity, event.version);
        if (event.type === 'price.updated') keepNewest(channel.prices, event.sku, event.price, event.version);
        if (event.type === 'product.reviewed') channel.reviews++;
        return 204;
      });
      return url + '/webhooks';
    };
    return channel;
  }
  const keepNewest = (table, sku, value, version) => {
    if (!table[sku] || table[sku].version < version) table[sku] = { value, version };
  };

  const web = salesChannel('web store');
  const marketplace = salesChannel('marketplace');
  const pos = salesChannel('point of sale');

  // --- The shop: an application, and one endpoint per channel with its event-type filter.
  const shopApp = await svix.application.create({ name: 'Corner Shop' });
  const subscriptions = [
    [web, undefined], // everything
    [marketplace, ['inventory.updated', 'price.updated']],
    [pos, ['inventory.updated']],
  ];
  for (const [channel, filterTypes] of subscriptions) {
    const ep = await svix.endpoint.create(shopApp.id, { url: await channel.start(), filterTypes, description: channel.name });
    channel.secret = (await svix.endpoint.getSecret(shopApp.id, ep.id)).key;
    channel.endpointId = ep.id;
  }

  const shop = { stock: { mug: 40, tee: 25, cap: 12 }, prices: { mug: 900, tee: 1900, cap: 1500 }, versions: {} };
  const published = [];
  async function publish(type, payload) {
    const msg = await svix.message.create(shopApp.id, { eventType: type, payload: { type, ...payload } });
    published.push({ id: msg.id, type });
    return msg.id;
  }
  const version = (key) => (shop.versions[key] = (shop.versions[key] ?? 0) + 1);
  const sell = (sku, n) => {
    shop.stock[sku] -= n;
    return publish('inventory.updated', { sku, quantity: shop.stock[sku], version: version('stock.' + sku) });
  };
  const restock = (sku, n) => sell(sku, -n);
  const reprice = (sku, price) => {
    shop.prices[sku] = price;
    return publish('price.updated', { sku, price, version: version('price.' + sku) });
  };

  // The starting stock and prices, to everyone.
  for (const sku of Object.keys(shop.stock)) {
    await restock(sku, 0);
    await reprice(sku, shop.prices[sku]);
  }
  await waitFor('every channel to have the catalogue', () => web.received.size === 6 && marketplace.received.size === 6 && pos.received.size === 3);

  // --- The marketplace goes down; the shop keeps selling.
  marketplace.down = true;
  const whileDown = [await sell('mug', 3), await sell('tee', 1), await reprice('cap', 1400), await sell('mug', 2), await publish('product.reviewed', { sku: 'mug', stars: 5 })];
  const missed = whileDown.filter((id) => published.find((p) => p.id === id).type !== 'product.reviewed');
  await waitFor('the marketplace to refuse what was sent while it was down', () => missed.every((id) => marketplace.refused.has(id)));

  // --- It comes back; more sales happen; the failed deliveries are retried on their schedule.
  marketplace.down = false;
  await sell('cap', 4);
  await restock('mug', 20);
  await sell('tee', 5);

  const expected = (types) => published.filter((p) => !types || types.includes(p.type)).length;
  for (const [channel, types] of subscriptions) {
    await waitFor(`${channel.name} to receive its ${expected(types)} events`, () => channel.received.size === expected(types));
    // What the server says: every delivery to this endpoint succeeded in the end.
    const stats = await waitFor(`the server to record ${channel.name}'s deliveries`, async () => {
      const s = await svix.endpoint.getStats(shopApp.id, channel.endpointId);
      return s.pending + s.sending === 0 && s;
    });
    check(stats.success === expected(types) && stats.fail === 0, `${channel.name}: stats ${JSON.stringify(stats)}`);
    check(channel.forged === 0, `${channel.name} received ${channel.forged} webhooks with a bad signature`);
  }

  // --- The numbers match.
  // Key order follows arrival order, which differs between channels: compare sorted.
  const values = (table) => Object.fromEntries(Object.entries(table).map(([sku, v]) => [sku, v.value]).sort(([a], [b]) => (a < b ? -1 : 1)));
  const sorted = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
  for (const channel of [web, marketplace, pos]) {
    check(JSON.stringify(values(channel.stock)) === JSON.stringify(sorted(shop.stock)), `${channel.name} stock ${JSON.stringify(values(channel.stock))} != shop ${JSON.stringify(shop.stock)}`);
  }
  for (const channel of [web, marketplace]) {
    check(JSON.stringify(values(channel.prices)) === JSON.stringify(sorted(shop.prices)), `${channel.name} prices ${JSON.stringify(values(channel.prices))} != shop ${JSON.stringify(shop.prices)}`);
  }
  check(web.reviews === 1 && marketplace.reviews === 0 && pos.reviews === 0, 'only the web store subscribes to reviews');
  check(Object.keys(pos.prices).length === 0, 'the point of sale does not subscribe to prices');

  return (
    `stock ${JSON.stringify(shop.stock)} matches in all three channels; ` +
    `web store ${web.received.size} events, marketplace ${marketplace.received.size} (${marketplace.refused.size} caught up by retries), point of sale ${pos.received.size}`
  );
});
