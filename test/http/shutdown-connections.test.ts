/**
 * Stopping the server is not held up by a client that keeps a connection open without
 * sending a request on it (HTTP clients open spare connections ahead of need; fetch does
 * after an aborted stream). Node neither closes such a connection as idle nor times it out
 * once the server is closing.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { eventually } from '../helpers/eventually.js';
import { startServer } from '../helpers/server.js';

it('close() cuts connections that have sent no request', { timeout: 120_000 }, async () => {
  const server = await startServer();
  const { hostname, port } = new URL(server.url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  const cut = once(socket, 'close');
  // Once the server has taken the connection, it stops.
  const count = () => new Promise<number>((resolve, reject) => server.sb.app.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
  await eventually(async () => (await count()) >= 1, 'the server to take the connection');
  await server.close();
  await cut;
  assert.ok(socket.destroyed);
});
