/**
 * Weather polling: a third-party API with no webhooks becomes a stream of events. A polling
 * source asks a (local stand-in) weather API every second with conditional requests
 * (If-None-Match, answered 304 while nothing changed) and publishes `weather.changed` only
 * for the stations whose reading changed. A dashboard receives those as signed webhooks.
 *
 *   node examples/weather-polling/run.mjs
 */
import { createHash } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { check, example, waitFor } from '../common.mjs';

await example('weather-polling', {}, async ({ svix, api, receiver }) => {
  // --- The weather API: current readings, with an ETag; If-None-Match with it gets 304.
  const readings = {
    oslo: { station: 'oslo', tempC: 4.5, windKph: 12 },
    bergen: { station: 'bergen', tempC: 7.0, windKph: 30 },
    tromso: { station: 'tromso', tempC: -3.0, windKph: 18 },
  };
  let generatedAt = new Date().toISOString();
  const weatherApi = { requests: 0, conditional: 0, notModified: 0, served: [] };
  const weather = await receiver(({ url, headers }) => {
    if (url !== '/v1/current') return 404;
    weatherApi.requests++;
    const json = { generatedAt, readings: Object.values(readings) };
    const etag = '"' + createHash('sha256').update(JSON.stringify(json)).digest('base64url').slice(0, 16) + '"';
    if (headers['if-none-match']) weatherApi.conditional++;
    if (headers['if-none-match'] === etag) {
      weatherApi.notModified++;
      weatherApi.served.push(304);
      return { status: 304, headers: { etag } };
    }
    weatherApi.served.push(200);
    return { status: 200, json, headers: { etag } };
  });

  // --- The dashboard: receives the changes as webhooks.
  const dashboard = { secret: null, changes: [] };
  const dashboardUrl = (
    await receiver(({ headers, body }) => {
      dashboard.changes.push(new Webhook(dashboard.secret).verify(body, headers));
      return 204;
    })
  ).url;

  // --- A polling source: one item per station, identified by its name; emit when one changes.
  const source = await api('POST', '/ingest/api/v1/source', {
    name: 'Weather',
    type: 'poll',
    config: { url: weather.url + '/v1/current', intervalSecs: 1, eventType: 'weather.changed', items: 'readings', itemId: 'station', emitOn: 'changed' },
  });
  const ep = await svix.ingest.endpoint.create(source.id, { url: dashboardUrl + '/weather' });
  dashboard.secret = (await svix.ingest.endpoint.getSecret(source.id, ep.id)).key;

  /** Waits until the API has answered one more 304 than it had: the source ran again and found nothing new. */
  const anotherNotModified = () => {
    const seen = weatherApi.notModified;
    return waitFor('the next 304 (a run that found nothing new)', () => weatherApi.notModified > seen);
  };

  // The first run remembers the readings (no events); the next ones are answered 304.
  await anotherNotModified();

  // It gets colder in Oslo: one event, for Oslo.
  readings.oslo = { ...readings.oslo, tempC: 1.5 };
  generatedAt = new Date().toISOString();
  await waitFor('the Oslo change on the dashboard', () => dashboard.changes.length === 1);
  check(dashboard.changes[0].station === 'oslo' && dashboard.changes[0].tempC === 1.5, `unexpected change ${JSON.stringify(dashboard.changes[0])}`);
  await anotherNotModified();

  // The API refreshes its answer (a new ETag) but no reading changed: no event.
  generatedAt = new Date(Date.now() + 1000).toISOString();
  const refreshedAt = weatherApi.served.length;
  await waitFor('the refreshed answer to be read', () => weatherApi.served.slice(refreshedAt).includes(200));
  await anotherNotModified();

  // The wind picks up in Bergen: one more event.
  readings.bergen = { ...readings.bergen, windKph: 55 };
  generatedAt = new Date(Date.now() + 2000).toISOString();
  await waitFor('the Bergen change on the dashboard', () => dashboard.changes.length === 2);
  await anotherNotModified();

  // --- Only the two changes were published, and every request after the first was conditional.
  const { data: messages } = await api('GET', `/api/v1/app/${source.id}/msg`);
  check(messages.length === 2, `${messages.length} messages were published, expected 2`);
  check(dashboard.changes.length === 2 && dashboard.changes[1].station === 'bergen' && dashboard.changes[1].windKph === 55, `changes: ${JSON.stringify(dashboard.changes)}`);
  check(weatherApi.conditional === weatherApi.requests - 1, `${weatherApi.conditional} of ${weatherApi.requests} requests carried If-None-Match`);
  const { run } = await api('GET', `/ingest/api/v1/source/${source.id}`);
  return `${weatherApi.requests} polls (${weatherApi.notModified} answered 304 Not Modified), 2 weather.changed events (oslo ${readings.oslo.tempC} °C, bergen ${readings.bergen.windKph} km/h); last run: ${run.lastOutcome}`;
});
