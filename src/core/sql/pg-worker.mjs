// The PostgreSQL side of src/core/sql/postgres.ts: one `pg` connection in a worker thread. The
// caller posts one request on `port`, blocks on the shared flag with Atomics.wait, and this worker
// answers on `port` and then raises the flag (the synckit pattern). Plain JavaScript (copied to
// dist/ beside the compiled files, like the codec worker).
import { workerData } from 'node:worker_threads';
import pg from 'pg';

const { url, port, flag, statementTimeoutMs } = workerData;
const ctl = new Int32Array(flag);

// Integers come back as JS numbers, as better-sqlite3 gives them (bigint and numeric: COUNT, SUM).
const toNumber = (v) => (v === null ? null : Number(v));
pg.types.setTypeParser(20, toNumber); // int8
pg.types.setTypeParser(1700, toNumber); // numeric

let client;
let connecting;
const prepared = new Map();

async function connection() {
  if (client) return client;
  connecting ??= (async () => {
    const c = new pg.Client({ connectionString: url, statement_timeout: statementTimeoutMs, application_name: 'datamesh' });
    c.on('error', () => {
      // the server went away: the next statement connects again (an open transaction is lost and fails)
      if (client === c) client = undefined;
      prepared.clear();
    });
    await c.connect();
    client = c;
    return c;
  })().finally(() => {
    connecting = undefined;
  });
  return connecting;
}

const asBuffer = (v) => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v);

async function handle(msg) {
  if (msg.op === 'close') {
    const c = client;
    client = undefined;
    await c?.end().catch(() => {});
    return { ok: true };
  }
  const c = await connection();
  if (msg.op === 'exec') {
    await c.query(msg.text);
    return { ok: true };
  }
  // Each distinct statement is prepared once per connection (a name per text).
  let name = prepared.get(msg.text);
  if (name === undefined) {
    name = `dm${prepared.size}`;
    prepared.set(msg.text, name);
  }
  const r = await c.query({ name, text: msg.text, values: msg.values.map(asBuffer) });
  return { rows: r.rows ?? [], rowCount: r.rowCount ?? 0 };
}

port.on('message', (msg) => {
  handle(msg).then(
    (reply) => answer(reply),
    (e) => {
      if (msg.op !== 'exec' && msg.op !== 'close' && /prepared statement/.test(String(e?.message))) prepared.delete(msg.text);
      answer({ error: { message: String(e?.message ?? e), code: e?.code, detail: e?.detail } });
    },
  );
});

function answer(reply) {
  port.postMessage(reply);
  Atomics.store(ctl, 0, 1);
  Atomics.notify(ctl, 0);
}
