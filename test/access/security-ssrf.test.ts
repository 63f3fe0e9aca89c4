/**
 * The outbound address guard: the classification matrix, every IP-literal notation aimed at
 * a canary listener that must see zero connections, no redirects, no second resolution
 * (rebinding), and refusal both when an endpoint is saved (422) and when it is sent to.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, isIP } from 'node:net';
import type { Server } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { addressAllowed, parseNetworks, refusalHint } from '../../src/domain/network.js';
import { HttpSender, guardedLookup } from '../../src/engine/http-sender.js';
import type { Resolver } from '../../src/engine/http-sender.js';
import { newId } from '../../src/domain/ids.js';
import { Receiver } from '../helpers/receiver.js';
import { attemptsOf, startServer } from '../helpers/server.js';
import { createApp } from '../helpers/security.js';

const NONE = parseNetworks('');

const DENIED = [
  // IPv4: this network, private, shared, loopback, link-local (cloud metadata), reserved, multicast
  '0.0.0.0', '0.1.2.3', '10.0.0.1', '10.255.255.255', '100.64.0.1', '100.127.255.255', '127.0.0.1', '127.255.255.254',
  '169.254.169.254', '169.254.0.1', '172.16.0.1', '172.31.255.255', '192.0.0.1', '192.0.2.1', '192.88.99.1', '192.168.1.1',
  '198.18.0.1', '198.19.255.255', '198.51.100.1', '203.0.113.1', '224.0.0.1', '239.255.255.255', '240.0.0.1', '255.255.255.255',
  // IPv6: unspecified, loopback, link-local, site-local, unique-local, multicast, documentation, discard, Teredo
  '::', '::1', 'fe80::1', 'febf:ffff::1', 'fec0::1', 'fc00::1', 'fd12:3456:789a::1', 'ff02::1', '2001:db8::1', '100::1', '2001::1',
  // IPv4 inside IPv6: mapped, compatible, translated, NAT64, 6to4
  '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '0:0:0:0:0:ffff:c0a8:0101',
  '::127.0.0.1', '::7f00:1', '::10.0.0.1', '::ffff:0:127.0.0.1', '64:ff9b::7f00:1', '64:ff9b::808:808', '64:ff9b:1::1',
  '2002:7f00:1::1', '2002:a9fe:a9fe::', '2002:0a00:0001::1',
  // zone ids and things that are not addresses
  'fe80::1%eth0', 'localhost', '', '127.1', '2130706433',
];

const ALLOWED = ['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '172.15.255.255', '100.128.0.1', '169.253.255.255', '198.20.0.1', '11.0.0.1',
  '2606:4700:4700::1111', '2a00:1450:4001:81b::200e', '::ffff:8.8.8.8', '2002:0808:0808::1'];

describe('address classification', () => {
  it('refuses every reserved, private, loopback and link-local form, IPv4 inside IPv6 included', () => {
    for (const a of DENIED) assert.equal(addressAllowed(a, NONE), false, a);
  });

  it('allows public addresses', () => {
    for (const a of ALLOWED) assert.equal(addressAllowed(a, NONE), true, a);
  });

  it('SWITCHBOARD_ALLOWED_NETWORKS is the only way around it, and only for the networks it names', () => {
    const local = parseNetworks('127.0.0.0/8,::1/128');
    assert.equal(addressAllowed('127.0.0.1', local), true);
    assert.equal(addressAllowed('::ffff:127.0.0.1', local), true, 'mapped: an IPv4 connection to an allowed network');
    assert.equal(addressAllowed('::1', local), true);
    assert.equal(addressAllowed('::127.0.0.1', local), false, 'the compatible form is not the same network');
    assert.equal(addressAllowed('10.0.0.1', local), false);
    assert.equal(addressAllowed('169.254.169.254', local), false);
    assert.equal(addressAllowed('169.254.169.254', parseNetworks('169.254.169.254/32')), true);
  });

  it('says which refused network an address is in, and the setting that allows exactly it', () => {
    assert.equal(refusalHint('127.0.0.1'), '127.0.0.1 is in a refused network (loopback 127.0.0.0/8); set SWITCHBOARD_ALLOWED_NETWORKS=127.0.0.1/32 to allow it');
    assert.match(refusalHint('::1'), /\(loopback ::1\/128\); set SWITCHBOARD_ALLOWED_NETWORKS=::1\/128 to allow it$/);
    assert.match(refusalHint('::ffff:127.0.0.1'), /is the IPv4 address 127\.0\.0\.1: .*SWITCHBOARD_ALLOWED_NETWORKS=127\.0\.0\.1\/32 /);
    assert.match(refusalHint('169.254.169.254'), /link-local and cloud metadata 169\.254\.0\.0\/16/);
    assert.match(refusalHint('2002:7f00:1::1'), /carries the IPv4 address 127\.0\.0\.1, in a refused network \(loopback 127\.0\.0\.0\/8\)/);
    assert.match(refusalHint('fe80::1%eth0'), /zone id; such addresses are never allowed/);
    // The suggested setting allows the address, and nothing else around it.
    for (const a of DENIED) {
      if (a.includes('%') || !isIP(a)) continue;
      const hint = refusalHint(a);
      const suggested = /SWITCHBOARD_ALLOWED_NETWORKS=(\S+) to allow it$/.exec(hint)?.[1];
      assert.ok(suggested, `${a}: ${hint}`);
      assert.doesNotMatch(hint, /\(reserved\)|\?/, `${a} is in a named network: ${hint}`);
      assert.equal(addressAllowed(a, parseNetworks(suggested)), true, `${a} with ${suggested}`);
      assert.ok(suggested.endsWith('/32') || suggested.endsWith('/128'), `${a}: a single address, ${suggested}`);
    }
  });
});

describe('outbound requests', () => {
  let canary: Server;
  let canaryPort = 0;
  let connections = 0;
  let canary6: Server | null = null;
  let rx: Receiver;

  before(async () => {
    canary = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => canary.listen(0, '127.0.0.1', r));
    canaryPort = (canary.address() as { port: number }).port;
    // The same port on ::1, where the machine has IPv6 loopback.
    const c6 = createServer((s) => {
      connections++;
      s.destroy();
    });
    canary6 = await new Promise<Server | null>((resolve) => {
      c6.once('error', () => resolve(null));
      c6.listen(canaryPort, '::1', () => resolve(c6));
    });
    rx = await new Receiver().start();
  });
  after(async () => {
    await new Promise((r) => canary.close(r));
    if (canary6) await new Promise((r) => canary6!.close(r));
    await rx.close();
  });

  it('refuses every notation of a local address before any connection: the canary sees none', async () => {
    const P = canaryPort;
    const urls = [
      `http://127.0.0.1:${P}/`, `https://127.0.0.1:${P}/`, `http://2130706433:${P}/`, `http://0177.0.0.1:${P}/`, `http://0x7f.0.0.1:${P}/`,
      `http://0x7f000001:${P}/`, `http://017700000001:${P}/`, `http://127.1:${P}/`, `http://0x7f.1:${P}/`, `http://127.0.0.1.:${P}/`,
      `http://%31%32%37.0.0.1:${P}/`, `http://\u2460\u2461\u2466.0.0.1:${P}/`, `http://0:${P}/`, `http://0.0.0.0:${P}/`,
      `http://[::1]:${P}/`, `http://[::ffff:127.0.0.1]:${P}/`, `http://[::ffff:7f00:1]:${P}/`, `http://[0:0:0:0:0:ffff:127.0.0.1]:${P}/`,
      `http://[::127.0.0.1]:${P}/`, `http://[::]:${P}/`, `http://localhost:${P}/`, `http://localhost.:${P}/`, `http://LOCALHOST:${P}/`,
      `ftp://127.0.0.1:${P}/`, `file:///etc/passwd`, `http://169.254.169.254/latest/meta-data/`, `http://[fd00::1]:${P}/`,
    ];
    const sender = new HttpSender({ allowedNetworks: NONE, timeoutMs: 2000 });
    try {
      for (const url of urls) {
        const r = await sender.send({ url, headers: {}, body: '{}' });
        assert.equal(r.kind, 'error', url);
        assert.match(r.kind === 'error' ? r.reason : '', /not allowed|ESWITCHBOARDREFUSED|invalid endpoint URL|ENOTFOUND/, url);
      }
    } finally {
      await sender.close();
    }
    assert.equal(connections, 0, 'no connection reached the canary');
  });

  it('does not follow redirects to it', async () => {
    rx.on('/redirect', (_req, res) => void res.writeHead(302, { location: `http://127.0.0.1:${canaryPort}/` }).end());
    rx.on('/redirect307', (_req, res) => void res.writeHead(307, { location: `http://127.0.0.1:${canaryPort}/` }).end());
    const sender = new HttpSender({ allowedNetworks: parseNetworks('127.0.0.0/8'), timeoutMs: 2000 });
    try {
      for (const path of ['/redirect', '/redirect307']) {
        const r = await sender.send({ url: rx.url(path), headers: {}, body: '{}' });
        assert.equal(r.kind === 'response' ? r.status : 0, path === '/redirect' ? 302 : 307, 'the 3xx is the answer, a failure');
      }
    } finally {
      await sender.close();
    }
    assert.equal(connections, 0);
  });

  it('connects to the address it checked: no second resolution for a rebinding DNS answer', async () => {
    let calls = 0;
    // First answer: a permitted (unroutable) address; any later answer: the canary.
    const rebinding: Resolver = (_host, _opts, cb) => {
      calls++;
      cb(null, calls === 1 ? [{ address: '192.0.2.10', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]);
    };
    const sender = new HttpSender({ allowedNetworks: parseNetworks('192.0.2.0/24'), timeoutMs: 500, resolve: rebinding });
    try {
      const r = await sender.send({ url: `http://rebind.example:${canaryPort}/`, headers: {}, body: '{}' });
      assert.equal(r.kind, 'error');
    } finally {
      await sender.close();
    }
    assert.equal(calls, 1, 'resolved once');
    assert.equal(connections, 0);
  });

  it('passes on only the allowed addresses of a mixed DNS answer, and refuses an all-private one', async () => {
    const answer: LookupAddress[] = [
      { address: '127.0.0.1', family: 4 },
      { address: '93.184.216.34', family: 4 },
      { address: '::1', family: 6 },
      { address: '2606:4700:4700::1111', family: 6 },
    ];
    const lookup = guardedLookup(NONE, (_h, _o, cb) => cb(null, answer));
    const all = await new Promise<LookupAddress[]>((resolve, reject) => lookup('x.example', { all: true }, (e, a) => (e ? reject(e) : resolve(a as LookupAddress[]))));
    assert.deepEqual(all.map((a) => a.address), ['93.184.216.34', '2606:4700:4700::1111']);
    const one = await new Promise<string>((resolve, reject) => lookup('x.example', {}, (e, a) => (e ? reject(e) : resolve(a as string))));
    assert.equal(one, '93.184.216.34');
    const privateOnly = guardedLookup(NONE, (_h, _o, cb) => cb(null, [{ address: '10.1.2.3', family: 4 }, { address: 'fd00::1', family: 6 }]));
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => privateOnly('intranet.example', { all: true }, (e) => resolve(e)));
    assert.equal(err?.code, 'ESWITCHBOARDREFUSED');
    assert.equal(err?.message, 'address of intranet.example is not allowed: 10.1.2.3 is in a refused network (private 10.0.0.0/8); set SWITCHBOARD_ALLOWED_NETWORKS=10.1.2.3/32 to allow it');
  });

  it('refuses an endpoint URL in any local notation with a clear 422, and refuses again at send time', async () => {
    const server = await startServer({ SWITCHBOARD_ALLOWED_NETWORKS: '' });
    try {
      const app = await createApp(server, 'ssrf');
      const P = canaryPort;
      for (const url of [`http://2130706433:${P}/`, `http://0177.0.0.1:${P}/`, `http://0x7f.1:${P}/`, `http://127.1:${P}/`, `http://[::ffff:127.0.0.1]:${P}/`, `http://[::127.0.0.1]:${P}/`, `http://0:${P}/`, `http://localhost:${P}/`, 'http://169.254.169.254/', 'http://[fe80::1]/', 'http://[2002:7f00:1::1]/']) {
        const r = await server.api('POST', `/api/v1/app/${app}/endpoint`, { url });
        assert.equal(r.status, 422, url);
        assert.deepEqual(r.body.detail[0].loc, ['body', 'url'], url);
        assert.match(r.body.detail[0].msg, /^address not allowed: .* is in a refused network \(.+\); set SWITCHBOARD_ALLOWED_NETWORKS=\S+ to allow it$|carries the IPv4 address/, url);
      }
      // The README's first endpoint: a receiver on this machine.
      const local = await server.api('POST', `/api/v1/app/${app}/endpoint`, { url: `http://127.0.0.1:${P}/webhook` });
      assert.equal(local.status, 422);
      assert.equal(local.body.detail[0].type, 'value_error.url.address');
      assert.equal(local.body.detail[0].msg, 'address not allowed: 127.0.0.1 is in a refused network (loopback 127.0.0.0/8); set SWITCHBOARD_ALLOWED_NETWORKS=127.0.0.1/32 to allow it');
      const ops = await server.api('POST', '/api/v1/operational-webhook/endpoint', { url: `http://localhost:${P}/ops` });
      assert.equal(ops.status, 422);
      assert.match(ops.body.detail[0].msg, /^address not allowed: (127\.0\.0\.1|::1) is in a refused network \(loopback .*\); set SWITCHBOARD_ALLOWED_NETWORKS=/);
      // An endpoint saved while its address was allowed (written straight to the store here) is refused when sent to.
      const now = Date.now();
      await server.sb.store.createEndpoint({
        id: newId('endpoint', now), appId: app, uid: null, url: `http://127.0.0.1:${P}/`, description: '', disabled: false, eventTypes: null,
        channels: null, throttleRate: null, metadata: {}, headers: {}, secrets: [{ key: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', expiresAt: null }],
        failingSince: null, createdAt: now, updatedAt: now,
      });
      const msg = await server.api('POST', `/api/v1/app/${app}/msg`, { eventType: 'ssrf.test', payload: {} });
      assert.equal(msg.status, 202);
      const [attempt] = await attemptsOf(server, app, msg.body.id);
      assert.ok(attempt, 'the attempt was recorded');
      assert.equal(attempt.status, 2, 'failed');
      assert.match(attempt.response, /not allowed: 127\.0\.0\.1 is in a refused network \(loopback 127\.0\.0\.0\/8\); set SWITCHBOARD_ALLOWED_NETWORKS=127\.0\.0\.1\/32 to allow it/);
    } finally {
      await server.close();
    }
    assert.equal(connections, 0, 'still no connection to the canary');
  });

  it('control: with the network allowed, the same sender does reach the canary', async () => {
    const sender = new HttpSender({ allowedNetworks: parseNetworks('127.0.0.0/8'), timeoutMs: 1000 });
    try {
      await sender.send({ url: `http://127.0.0.1:${canaryPort}/`, headers: {}, body: '{}' });
    } finally {
      await sender.close();
    }
    assert.equal(connections, 1);
  });
});
