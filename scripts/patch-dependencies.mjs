// Fixes in installed dependencies that their releases do not have yet. Run after every install
// (`postinstall`; the Dockerfile runs it after its `npm ci --ignore-scripts`). Each fix finds the
// exact text it replaces, so it applies once and says so when that text is gone (a release
// that changed or fixed the code): the fix is then checked against that release, not forced.
//
// postgres (3.4.9): a connection writes a small query on the next turn (`setImmediate`); if
// the connection closed meanwhile (its server process ended, the network dropped), that write
// dereferences the socket it no longer has and throws from the immediate, an uncaught
// exception that ends the whole process (porsager/postgres#1154, #1208). Fixed here as the
// proposed upstream fix does: no socket, and the queries waiting for that write fail with
// CONNECTION_CLOSED, which the store reports and retries like any lost connection.
// test/storage/postgres-transactions.test.ts kills a connection mid-transaction.
//
// postgres (3.4.9): a reserved connection (`sql.reserve()`, which PgConnection.transaction is
// built on) keeps the statements it cannot send yet (while one is being described first) in a
// queue of its own, which nothing rejects when the connection closes: they stay pending for
// good, and so does whatever awaits them (every publish of a node, queued behind one such
// transaction). `sql.begin` guards against this with the connection's close hook; the fix gives
// reserved connections the same: on close the queue is rejected with CONNECTION_CLOSED, later
// statements are refused at once, and a release of the lost connection does nothing (the pool
// has it as closed already). test/storage/postgres-transactions.test.ts kills a connection
// with statements waiting behind a busy one.
//
// postgres (3.4.9): when a connection's socket fails (reset, refused), its 'error' event fails
// the queries sent so far, and its 'close' event, which comes a turn later, fails none when
// there was an error. A query sent in between (the pool still has the connection as open) is
// left as the connection's current query: the ReadyForQuery of the next connection's start-up
// then resolves it with an empty result, as if it had run and found no rows (a message read
// back as missing, a write reported done that never ran). The fix fails whatever is still
// sent or current when the socket closes, with CONNECTION_CLOSED, and forgets it.
// test/http/storage-faults.test.ts reads a stored message while every connection is reset:
// without the fix the first read came back "not found" in about one run in four.
//
// postgres (3.4.9): a `reserve()` waiting for a connection can be lost for good after a lost
// connection (porsager/postgres#1195). It waits in the pool's queue and, when it found a closed
// connection, is also that connection's first query. Two faults follow:
//   - When a connection closes, it takes the next entry of the queue as the first query of its
//     reconnection; once connected it drops a reserve there unresolved (it expects to find it in
//     the queue, which it left): the reserve never settles, and neither does the transaction
//     built on it.
//   - A reserve rejected by a failed connection attempt stays in the queue; the next connection
//     to open resolves it (a promise already settled: nothing happens) and is then neither open
//     nor busy: a connection of the pool is lost for good. Two such, in a pool of two, and every
//     query waits forever.
// The fix: a reserve leaves the queue when it settles, and settles once; a connection whose
// first query is a reserve hands itself to it once connected (or, when another connection took
// it meanwhile, opens for the queue, or closes when the pool is ending: `end()` waits for it). A
// reserve served from the queue has left it already, so only this hand-over and a rejection look
// for it there. test/storage/postgres-reserve.test.ts runs transactions through an outage and
// checks that each settles and that the whole pool serves afterwards, and ends a pool whose
// second connection was still starting for a reserve another connection had served.
//
// postgres (3.4.9): queries that wait for a connection of the pool stay in its queue while the
// database is unreachable, and each failed reconnection fails only one of them: under load a
// request waits about as long as the outage. The pool gains `failWaiting(error)`, which fails
// every query (and `reserve()`) still waiting for a connection (none of them was sent) with a
// fresh `error()` each, and says how many; the storage health calls it once the database has
// been unreachable for SWITCHBOARD_STORAGE_WAIT_MS. test/http/storage-faults.test.ts queues
// more requests than the pool could fail in the outage it makes.
//
// postgres (3.4.9): every new connection first fetches the array types (`fetch_types`), in a
// promise nothing awaits (porsager/postgres#1192, #1205, #1223). When that fetch fails (its
// connection reset, its backend ended, its statement cancelled), the rejection is unhandled,
// and Node ends the process for it: a node died when a connection to the database was reset
// while it was starting up, which an outage or a flapping network makes likely. The fix
// catches it; the connection's own error handling already fails (or retries) its queries.
// test/storage/postgres-transactions.test.ts resets a connection during that fetch.
//
// postgres (3.4.9): when the connection of a `sql.begin` transaction closes (reset, or its
// session ended by the server, as `idle_in_transaction_session_timeout` does), `begin` rejects,
// but the transaction's function goes on, and the statements it sends next are executed on the
// same pool connection once it has reconnected: outside any transaction, each committed on its
// own, while the statements before the close were rolled back (porsager/postgres#1216, #1155).
// The fix gives `begin` what reserved connections have (above): on close, the statements it
// holds back are rejected with CONNECTION_CLOSED, and later ones are refused at once, so nothing
// of the transaction runs after its connection is gone. test/storage/postgres-stalled-node.test.ts
// lets the database end a transaction's session and checks that none of its statements stayed.
//
// postgres (3.4.9): small writes wait for an immediate (`nextWriteTimer`), and only that write
// forgets the timer and the bytes it was to send. A connection that closes before it runs (a
// refused connection attempt whose error and close come first) cancels the immediate but keeps
// both: the next socket of that connection finds a write "already scheduled", never sends its
// start-up message, and waits out `connect_timeout` (30 s), while the queries given to it wait
// as long (seen after outages: reads answered 30 s after the database was back). The fix forgets
// the timer and the unsent bytes (they belonged to the closed socket) when the connection
// closes or ends. test/storage/postgres-transactions.test.ts closes an attempt that way.
//
// postgres (3.4.9): a backend ended during a query (`pg_terminate_backend`, a restart, a
// failover) answers that query with a FATAL error, then closes. The error is kept until the next
// ReadyForQuery, which comes from the next connection: the query that was running failed with
// CONNECTION_CLOSED, and the next connection's first query with the old backend's error
// (porsager/postgres#1223). The fix fails the running query with that error when the connection
// closes, and forgets it. test/storage/postgres-transactions.test.ts ends a backend mid-query.
//
// postgres (3.4.9): a connection whose socket closes cleanly (FIN, no error) while it starts up
// reconnects at once and keeps the query that waited for it (porsager/postgres#1193). A TCP
// proxy or load balancer in front of a database that is down (or restarting) accepts and then
// closes just so: the query never settles, and the connection reconnects in a loop with no
// delay (about 500 attempts a second, half a core). The fix fails that query with
// CONNECTION_CLOSED, as a refused connection fails it, and counts the attempt for the pool's
// backoff. test/storage/postgres-transactions.test.ts connects through a proxy that closes
// each connection.
//
// postgres (3.4.9): with several hosts in the URL (`postgres://h1,h2/db`, with
// `target_session_attrs=read-write` for a primary and its standbys), a failed attempt moves
// to the next host, but the count of hosts tried is never raised, so there is always a "next"
// one (porsager/postgres#1188): with every host down the waiting query never settles and the
// connection reconnects in a loop with no delay (3.7 s of CPU in 9 s, measured). The fix counts
// the hosts of a round: once each has failed, the query fails with the last host's error (or
// CONNECTION_CLOSED), the pool's backoff applies, and the next attempt starts a new round.
// The same test file gives a URL whose hosts are all down, and one whose first host is down.
//
// postgres (3.4.9): session settings can be given only as startup parameters (`connection`),
// and a connection pooler refuses those it does not know: PgBouncer closes the connection with
// "unsupported startup parameter" for `idle_in_transaction_session_timeout`, `lock_timeout`
// or `tcp_user_timeout`, so a node could not connect through one at all. The pool gains a
// `setup` option: SQL run with the simple protocol on every new connection, once it is ready
// and before its first query (and before the array types are fetched). A setup that fails
// fails the query waiting for the connection with its error, and the connection closes: no
// query runs on a connection without its settings.
// test/storage/postgres-pooler.test.ts runs a node through a real PgBouncer.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const NO_SOCKET = 'switchboard: no socket, no write';
const RESERVED_LOST = 'switchboard: a reserved connection lost';
const SENT_AFTER_ERROR = 'switchboard: queries sent after the socket failed';
const FAIL_WAITING = 'switchboard: fail the queries waiting for a connection';
const RESERVE_SETTLES = 'switchboard: a reserve settles once, and leaves the queue when it does';
const RESERVE_FIRST = 'switchboard: a connection whose first query is a reserve hands itself to it';
const TYPES_FETCH = 'switchboard: a failed fetch of the array types ends no process';
const BEGIN_LOST = 'switchboard: a transaction whose connection closed sends nothing more';
const WRITE_FORGOTTEN = 'switchboard: a closed connection forgets its pending write';
const ERROR_ANSWERED = 'switchboard: an ended backend\'s error fails its own query, no other';
const CLEAN_CLOSE = 'switchboard: a clean close while connecting fails the waiting query';
const EACH_HOST_ONCE = 'switchboard: each host is tried once per round, then the waiting query fails';
const SESSION_SETUP = 'switchboard: a setup statement on every new connection';

/** A source file of postgres in each of its builds (ESM, CommonJS, Cloudflare). */
const inEveryBuild = (file) => ['src', 'cjs/src', 'cf/src'].map((dir) => `node_modules/postgres/${dir}/${file}`);

const fixes = [
  {
    mark: NO_SOCKET,
    files: inEveryBuild('connection.js'),
    find: '  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n',
    replace:
      '  function nextWrite(fn) {\n' +
      `    if (!socket) { // ${NO_SOCKET} (porsager/postgres#1208)\n` +
      '      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n' +
      '      chunk = nextWriteTimer = null\n' +
      "      error(Errors.connection('CONNECTION_CLOSED', options))\n" +
      '      return false\n' +
      '    }\n' +
      '    const x = socket.write(chunk, fn)\n',
  },
  {
    mark: RESERVED_LOST,
    files: inEveryBuild('index.js'),
    find:
      '    c.reserved.release = true\n' +
      '\n' +
      '    const sql = Sql(handler)\n' +
      '    sql.release = () => {\n' +
      '      c.reserved = null\n' +
      '      onopen(c)\n' +
      '    }\n' +
      '\n' +
      '    return sql\n' +
      '\n' +
      '    function handler(q) {\n' +
      '      c.queue === full\n',
    replace:
      '    c.reserved.release = true\n' +
      `    let lost = null // ${RESERVED_LOST}\n` +
      '    c.onclose = e => {\n' +
      "      lost = e || Errors.connection('CONNECTION_CLOSED', options)\n" +
      '      while (queue.length) queue.shift().reject(lost)\n' +
      '    }\n' +
      '\n' +
      '    const sql = Sql(handler)\n' +
      '    sql.release = () => {\n' +
      '      if (lost) return\n' +
      '      c.onclose = null\n' +
      '      c.reserved = null\n' +
      '      onopen(c)\n' +
      '    }\n' +
      '\n' +
      '    return sql\n' +
      '\n' +
      '    function handler(q) {\n' +
      '      if (lost) return q.reject(lost)\n' +
      '      c.queue === full\n',
  },
  {
    mark: SENT_AFTER_ERROR,
    files: inEveryBuild('connection.js'),
    find: "    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n",
    replace:
      `    if (query || sent.length) { // ${SENT_AFTER_ERROR}\n` +
      "      const lost = Errors.connection('CONNECTION_CLOSED', options, socket)\n" +
      '      errored(lost)\n' +
      '      while (sent.length) queryError(sent.shift(), lost)\n' +
      '      query = null\n' +
      '    }\n',
  },
  {
    mark: RESERVE_SETTLES,
    files: inEveryBuild('index.js'),
    find: '        const query = { reserve: resolve, reject }\n',
    replace:
      `        let settled = false // ${RESERVE_SETTLES} (porsager/postgres#1195)\n` +
      '        const query = {\n' +
      '          reserve: (c, queued) => settled ? false : (settled = true, queued && queries.remove(query), resolve(c), true),\n' +
      '          reject: e => settled || (settled = true, queries.remove(query), reject(e))\n' +
      '        }\n',
  },
  {
    mark: RESERVE_FIRST,
    files: inEveryBuild('connection.js'),
    find:
      '      if (needsTypes) {\n' +
      '        initial.reserve && (initial = null)\n' +
      '        return fetchArrayTypes()\n' +
      '      }\n' +
      '\n' +
      '      initial && !initial.reserve && execute(initial)\n',
    replace:
      `      if (needsTypes) // ${RESERVE_FIRST} (porsager/postgres#1195)\n` +
      '        return fetchArrayTypes()\n' +
      '\n' +
      '      initial.reserve\n' +
      // Another connection served the reserve meanwhile: this one opens for the queue, or, the
      // pool ending, closes (end() waits for that).
      '        ? initial.reserve(connection, true) || (ending ? terminate() : onopen(connection))\n' +
      '        : execute(initial)\n',
  },
  {
    mark: ERROR_ANSWERED,
    files: inEveryBuild('connection.js'),
    find: '    socket.removeAllListeners()\n    socket = null\n\n    if (initial)\n      return reconnect()\n',
    replace:
      '    socket.removeAllListeners()\n' +
      '    socket = null\n' +
      '\n' +
      `    const answered = errorResponse // ${ERROR_ANSWERED} (porsager/postgres#1223)\n` +
      '    errorResponse = null\n' +
      '    if (answered && query) {\n' +
      '      queryError(query, answered)\n' +
      '      query = null\n' +
      '    }\n' +
      '\n' +
      '    if (initial)\n' +
      '      return reconnect()\n',
  },
  {
    mark: WRITE_FORGOTTEN,
    files: inEveryBuild('connection.js'),
    find: '    incomings = null\n    clearImmediate(nextWriteTimer)\n',
    replace: `    incomings = null\n    clearImmediate(nextWriteTimer)\n    nextWriteTimer = chunk = null // ${WRITE_FORGOTTEN}\n`,
  },
  {
    mark: WRITE_FORGOTTEN + ' (ended)',
    files: inEveryBuild('connection.js'),
    find: '    clearImmediate(nextWriteTimer)\n    if (socket) {\n',
    replace: `    clearImmediate(nextWriteTimer)\n    nextWriteTimer = chunk = null // ${WRITE_FORGOTTEN} (ended)\n    if (socket) {\n`,
  },
  {
    mark: BEGIN_LOST,
    files: inEveryBuild('index.js'),
    find:
      '      , connection\n' +
      '      , prepare = null\n' +
      '\n' +
      '    try {\n' +
      "      await sql.unsafe('begin ' + options.replace(/[^a-z ]/ig, ''), [], { onexecute }).execute()\n" +
      '      return await Promise.race([\n' +
      '        scope(connection, fn),\n' +
      '        new Promise((_, reject) => connection.onclose = reject)\n' +
      '      ])\n',
    replace:
      '      , connection\n' +
      '      , prepare = null\n' +
      `      , lost = null // ${BEGIN_LOST} (porsager/postgres#1216)\n` +
      '\n' +
      '    try {\n' +
      "      await sql.unsafe('begin ' + options.replace(/[^a-z ]/ig, ''), [], { onexecute }).execute()\n" +
      '      return await Promise.race([\n' +
      '        scope(connection, fn),\n' +
      '        new Promise((_, reject) => connection.onclose = e => {\n' +
      "          lost = e || Errors.connection('CONNECTION_CLOSED', options)\n" +
      '          while (queries.length) queries.shift().reject(lost)\n' +
      '          reject(lost)\n' +
      '        })\n' +
      '      ])\n',
  },
  {
    mark: BEGIN_LOST + ' (statements)',
    files: inEveryBuild('index.js'),
    find:
      '      function handler(q) {\n' +
      '        q.catch(e => uncaughtError || (uncaughtError = e))\n' +
      '        c.queue === full\n',
    replace:
      '      function handler(q) {\n' +
      '        q.catch(e => uncaughtError || (uncaughtError = e))\n' +
      `        if (lost) return q.reject(lost) // ${BEGIN_LOST} (statements)\n` +
      '        c.queue === full\n',
  },
  {
    mark: TYPES_FETCH,
    files: inEveryBuild('connection.js'),
    find: '  async function fetchArrayTypes() {\n    needsTypes = false\n',
    replace:
      `  function fetchArrayTypes() { // ${TYPES_FETCH} (porsager/postgres#1192)\n` +
      '    return fetchArrayTypesOnce().catch(() => { /* the connection fails or retries its queries */ })\n' +
      '  }\n' +
      '\n' +
      '  async function fetchArrayTypesOnce() {\n' +
      '    needsTypes = false\n',
  },
  {
    mark: CLEAN_CLOSE,
    files: inEveryBuild('connection.js'),
    find: '    if (initial)\n      return reconnect()\n',
    replace:
      `    if (initial && options.host[retries + 1]) { // ${EACH_HOST_ONCE} (porsager/postgres#1188)\n` +
      '      retries++\n' +
      '      return reconnect()\n' +
      '    }\n' +
      '\n' +
      `    if (initial) { // ${CLEAN_CLOSE} (porsager/postgres#1193)\n` +
      "      errored(Errors.connection('CONNECTION_CLOSED', options, socket))\n" +
      '      hadError = true\n' +
      '    }\n' +
      '    retries = 0\n',
  },
  {
    mark: FAIL_WAITING,
    files: inEveryBuild('index.js'),
    find: '    close,\n    end\n  })\n\n  return sql\n\n  function Sql(handler) {\n',
    replace:
      '    close,\n' +
      '    end,\n' +
      `    failWaiting // ${FAIL_WAITING}\n` +
      '  })\n' +
      '\n' +
      '  return sql\n' +
      '\n' +
      '  function failWaiting(error) {\n' +
      '    let n = 0\n' +
      '    for (; queries.length; n++)\n' +
      '      queries.shift().reject(error())\n' +
      '    return n\n' +
      '  }\n' +
      '\n' +
      '  function Sql(handler) {\n',
  },
  {
    mark: SESSION_SETUP,
    files: inEveryBuild('index.js'),
    find: '    onparameter     : o.onparameter,\n',
    replace: '    onparameter     : o.onparameter,\n' + `    setup           : o.setup, // ${SESSION_SETUP}\n`,
  },
  {
    mark: SESSION_SETUP + ' (declared)',
    files: inEveryBuild('connection.js'),
    find: '    , needsTypes = options.fetch_types\n',
    replace: '    , needsTypes = options.fetch_types\n' + `    , needsSetup = false // ${SESSION_SETUP} (declared)\n` + '    , settingUp = false\n',
  },
  {
    mark: SESSION_SETUP + ' (connected)',
    files: inEveryBuild('connection.js'),
    find: '      needsTypes = options.fetch_types\n      statementId',
    replace: '      needsTypes = options.fetch_types\n' + `      needsSetup = !!options.setup // ${SESSION_SETUP} (connected)\n` + '      statementId',
  },
  {
    mark: SESSION_SETUP + ' (run)',
    files: inEveryBuild('connection.js'),
    find: '    if (initial) {\n      if (target_session_attrs) {\n',
    replace:
      `    if (setupFailed) // ${SESSION_SETUP} (run)\n` +
      '      return terminate()\n' +
      '\n' +
      '    if (needsSetup)\n' +
      '      return runSetup()\n' +
      '\n' +
      '    if (initial) {\n      if (target_session_attrs) {\n',
  },
  {
    mark: SESSION_SETUP + ' (failed)',
    files: inEveryBuild('connection.js'),
    find: '  function ReadyForQuery(x) {\n    if (query) {\n',
    replace:
      '  function ReadyForQuery(x) {\n' +
      `    const setupFailed = settingUp && !!errorResponse // ${SESSION_SETUP} (failed)\n` +
      '    settingUp = false\n' +
      '    if (query) {\n',
  },
  {
    mark: SESSION_SETUP + ' (statement)',
    files: inEveryBuild('connection.js'),
    find: '  async function fetchArrayTypesOnce() {\n',
    replace:
      `  function runSetup() { // ${SESSION_SETUP} (statement)\n` +
      '    needsSetup = false\n' +
      '    settingUp = true\n' +
      '    return new Query([options.setup], [], execute).simple().catch(() => { /* its error fails the waiting query, and the connection closes */ })\n' +
      '  }\n' +
      '\n' +
      '  async function fetchArrayTypesOnce() {\n',
  },
];

for (const fix of fixes) {
  for (const rel of fix.files) {
    const path = join(root, rel);
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'utf8');
    if (text.includes(fix.mark)) continue;
    if (!text.includes(fix.find)) {
      console.warn(`patch-dependencies: ${rel} has changed; its fix was not applied (check whether the release fixed it)`);
      continue;
    }
    writeFileSync(path, text.replace(fix.find, fix.replace));
  }
}
