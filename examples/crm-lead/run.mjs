/**
 * CRM lead: the webhook is the trigger, the API has the details. A visitor fills in the
 * contact form; the CRM stores the lead and publishes a small `lead.created` event (the lead's
 * id and where to read it, no personal data). The sales tool receives it as a signed webhook,
 * then calls the CRM's API, with its own key, for the full record.
 *
 *   node examples/crm-lead/run.mjs
 */
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { check, example, waitFor } from '../common.mjs';

await example('crm-lead', {}, async ({ svix, receiver }) => {
  const crmApiKey = 'crm_key_' + randomUUID();
  const crmApp = await svix.application.create({ name: 'CRM' });

  // --- The CRM: takes form posts, keeps the leads, serves them to holders of its API key.
  const leads = new Map();
  const crm = await receiver(async ({ method, url, headers, body }) => {
    if (method === 'POST' && url === '/forms/contact') {
      const form = Object.fromEntries(new URLSearchParams(body));
      const lead = { id: 'lead_' + randomUUID(), ...form, source: 'website', createdAt: new Date().toISOString() };
      leads.set(lead.id, lead);
      await svix.message.create(crmApp.id, { eventType: 'lead.created', payload: { type: 'lead.created', leadId: lead.id, href: `${crm.url}/api/leads/${lead.id}` } });
      return { status: 303, headers: { location: '/thanks' } };
    }
    const m = /^\/api\/leads\/([\w-]+)$/.exec(url);
    if (method === 'GET' && m) {
      if (headers.authorization !== `Bearer ${crmApiKey}`) return 401;
      return leads.has(m[1]) ? { status: 200, json: leads.get(m[1]) } : 404;
    }
    return 404;
  });

  // --- The sales tool: verifies the webhook, then fetches the lead it names.
  const sales = { secret: null, seen: new Set(), leads: [], payloads: [] };
  const salesTool = await receiver(async ({ headers, body }) => {
    let event;
    try {
      event = new Webhook(sales.secret).verify(body, headers);
    } catch {
      return 400;
    }
    if (sales.seen.has(headers['webhook-id'])) return 204; // a redelivery: already handled
    const res = await fetch(event.href, { headers: { authorization: `Bearer ${crmApiKey}` } }).catch(() => null);
    if (!res?.ok) return 503; // the CRM is not answering: Switchboard will retry
    sales.seen.add(headers['webhook-id']);
    sales.payloads.push(body);
    sales.leads.push(await res.json());
    return 204;
  });
  const ep = await svix.endpoint.create(crmApp.id, { url: salesTool.url + '/hooks/crm', filterTypes: ['lead.created'] });
  sales.secret = (await svix.endpoint.getSecret(crmApp.id, ep.id)).key;

  // --- Two visitors fill in the form.
  const submissions = [
    { name: 'Ada Lovelace', email: 'ada@example.com', company: 'Analytical Engines', message: 'We need a quote for 40 seats.' },
    { name: 'Grace Hopper', email: 'grace@example.com', company: 'Compilers Inc', message: 'Can we get a demo next week?' },
  ];
  for (const form of submissions) {
    const res = await fetch(crm.url + '/forms/contact', { method: 'POST', body: new URLSearchParams(form), redirect: 'manual' });
    check(res.status === 303, `the form post was answered ${res.status}`);
  }

  await waitFor('the sales tool to have both leads', () => sales.leads.length === 2);
  for (const form of submissions) {
    const lead = sales.leads.find((l) => l.email === form.email);
    check(lead && lead.name === form.name && lead.message === form.message && leads.get(lead.id), `the sales tool has no full record for ${form.email}`);
  }
  check(
    sales.payloads.every((p) => !submissions.some((f) => p.includes(f.email))),
    'a webhook carried personal data: it should only name the lead',
  );
  return `2 form submissions became lead.created webhooks of ${Buffer.byteLength(sales.payloads[0])} bytes; the sales tool fetched each full record from the CRM (${sales.leads.map((l) => l.name).join(', ')})`;
});
