/**
 * `datamesh recover --data NEWDIR --bootstrap MULTIADDR... --swarm-key FILE
 *  (--key-words W | --key-shares S... | DATAMESH_MASTER_KEY) [--json] [--force]`
 *
 * Rebuilds a lost gateway from the mesh: joins it with a throw-away identity, asks every reachable
 * peer for catalog heads, keeps those MAC'd under this master key and signed by their gateway, takes
 * the newest, reads that snapshot back from its shards and writes NEWDIR (the catalog, the gateway's
 * peer key, the master key when it came from the kit). Then it checks every live manifest's shards
 * against the peers (has), and asks the peers which shards the gateway stored after the copy was
 * taken that the copy does not know: those are writes the copy missed, reported as lost. Prints a
 * report (--json too). `datamesh serve --data NEWDIR` then serves as before.
 *
 * The mesh is closed: --swarm-key FILE (the mesh's pnet key file; else DATAMESH_SWARM_KEY, else
 * NEWDIR/swarm.key) is required, and is kept as NEWDIR/swarm.key. Storage peers serve shards only
 * to the peers their --admit-peers names, and this identity is new: run them with
 * --admit-peers auto while recovering (README "Disaster recovery"); recover says so when refused.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, parseArgs, parseDuration } from '../config.ts';
import { masterKeyFromFlags, writeMasterKey } from './key.ts';
import { MASTER_KEY_FILE, parseMasterKey } from '../../core/master-key.ts';
import { openDatabase, type DB } from '../../core/db.ts';
import { openHead, readSnapshot, snapshotShards, type HeadBody } from '../../data/catalog-snapshot.ts';
import { settleLimited } from '../../data/gc.ts';
import { LocalShardStore } from '../../../mesh/local-shards.ts';
import { createMeshNode, type MeshNode, type MeshNodeOptions } from '../../../mesh/node.ts';
import { PEER_KEY_FILE } from '../../../mesh/identity.ts';
import { meshSecret } from '../open-data.ts';
import { SWARM_KEY_FILE } from '../../../mesh/swarm-key.ts';
import { peerIdFromString } from '@libp2p/peer-id';

export const RECOVER_FLAGS = ['data', 'bootstrap', 'swarm-key', 'key-words', 'key-shares', 'json', 'force', 'listen-mesh', 'timeout'];

export interface RecoverIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
}

export interface RecoverReport {
  data: string;
  gateway: string;
  /** The copy restored: its sequence number and when it was taken. */
  copy: { seq: number; takenAt: string; peersWithHead: number };
  peers: { asked: number; answered: number };
  /** The newest change recorded in the restored catalog (object, part, upload or bucket). */
  newestChange: string | null;
  buckets: number;
  objects: number;
  accounts: number;
  accessKeys: number;
  openUploads: number;
  /** Objects with a segment that fewer than k reachable shards are left of. */
  objectsShortOfK: { bucket: string; key: string; segments: number }[];
  /** Shards the gateway stored after the copy that it does not know: data written after the last sync, lost. */
  writtenAfterCopy: { shards: number };
}

const say = (io: RecoverIo, msg: string) => io.stderr.write(`datamesh recover: ${msg}\n`);

export async function recoverCommand(argv: string[], io: RecoverIo): Promise<number> {
  const { flags, positional } = parseArgs(argv);
  for (const name of flags.keys()) if (!RECOVER_FLAGS.includes(name)) throw new ConfigError(`unknown option --${name}: run 'datamesh help' for recover's options`);
  if (positional.length > 0) throw new ConfigError(`unexpected argument '${positional[0]}': recover takes only options`);
  const dataArg = flags.get('data')?.at(-1);
  if (!dataArg) throw new ConfigError('--data NEWDIR is required: the directory the recovered gateway will serve from');
  const dataDir = resolve(dataArg);
  const bootstrap = (flags.get('bootstrap') ?? []).flatMap((b) => b.split(',')).map((b) => b.trim()).filter(Boolean);
  if (bootstrap.length === 0) throw new ConfigError('--bootstrap MULTIADDR is required (repeatable): the storage peers to recover from, e.g. /ip4/10.0.0.2/tcp/4001/p2p/12D3KooW...');
  const fromKit = flags.has('key-words') || flags.has('key-shares');
  const masterKey = masterKeyFromFlags(flags, io.env);
  if (!masterKey) throw new ConfigError('the master key is required: --key-words "24 words", --key-shares SHARE (K of them), or DATAMESH_MASTER_KEY');
  const json = flags.get('json')?.at(-1) === 'true';
  const force = flags.get('force')?.at(-1) === 'true';
  const timeoutMs = parseDuration(flags.get('timeout')?.at(-1) ?? '30s');
  // The mesh is closed (mesh/pnet.ts): without its network secret no connection gets past its
  // first bytes. --swarm-key FILE (the pnet key file, a copy of the lost gateway's DATA/swarm.key),
  // else DATAMESH_SWARM_KEY, else NEWDIR/swarm.key; the recovered gateway keeps it in NEWDIR.
  const swarm = await meshSecret({ dataDir, given: flags.get('swarm-key')?.at(-1) ?? io.env.DATAMESH_SWARM_KEY, create: false });

  const dbFile = join(dataDir, 'datamesh.db');
  if (existsSync(dbFile) && !force) {
    throw new ConfigError(`${dataDir} already holds a catalog: recover into an empty directory, or add --force to replace it (it is kept as datamesh.db.before-recover)`);
  }
  const keyFile = join(dataDir, MASTER_KEY_FILE);
  if (existsSync(keyFile) && !parseMasterKey(readFileSync(keyFile, 'utf8')).equals(masterKey)) {
    throw new ConfigError(`${keyFile} holds a different master key than the kit: recover into another directory, or move that file away`);
  }

  // A throw-away identity: the gateway's own comes back from the copy.
  const scratch = mkdtempSync(join(tmpdir(), 'datamesh-recover-'));
  let node: MeshNode | undefined;
  try {
    const options: MeshNodeOptions = {
      dataDir: scratch,
      listen: flags.get('listen-mesh') ?? ['/ip4/127.0.0.1/tcp/0'],
      bootstrap,
      shards: new LocalShardStore(join(scratch, 'shards'), { fsync: false }),
      role: 'storage',
      announce: false,
      storesLocally: false,
      probe: false,
      requestTimeoutMs: 10_000,
      swarmKey: swarm.key,
    };
    node = await createMeshNode(options);
    const report = await recoverWith(node, { dataDir, masterKey, bootstrapCount: bootstrap.length, timeoutMs, force, io });
    if (fromKit) writeMasterKey(dataDir, masterKey);
    // The recovered gateway joins the same closed mesh: it keeps the secret as DATA/swarm.key.
    const keptSecret = join(dataDir, SWARM_KEY_FILE);
    if (!existsSync(keptSecret)) writeFileSync(keptSecret, new TextDecoder().decode(swarm.key) + '\n', { mode: 0o600 });
    io.stdout.write(json ? JSON.stringify(report, null, 2) + '\n' : renderReport(report));
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    say(io, (e as Error).message);
    return 1;
  } finally {
    await node?.stop().catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function recoverWith(
  node: MeshNode,
  o: { dataDir: string; masterKey: Buffer; bootstrapCount: number; timeoutMs: number; force: boolean; io: RecoverIo },
): Promise<RecoverReport> {
  const heads = node.libp2p.services.heads;
  const deadline = Date.now() + o.timeoutMs;
  // The bootstrap peers, and whoever they tell us about, within the time given.
  const connected = () => node.libp2p.getPeers().map(String);
  while (connected().length < o.bootstrapCount && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const peers = [...new Set([...connected(), ...node.peers().filter((p) => !p.self).map((p) => p.id)])];
  if (peers.length === 0) throw new Error(`no peer answered at the --bootstrap addresses within ${o.timeoutMs} ms: check the addresses (and --swarm-key)`);

  // Storage peers serve only the peers their --admit-peers names (mesh/admission.ts), and this
  // recovery runs as a throw-away identity: reading the catalog heads is open to the mesh, the
  // shards are not. Say what the operator must do rather than report missing shards.
  const stats = await settleLimited(peers, 8, async (peer) =>
    (await node.libp2p.services.shards.request(peerIdFromString(peer), { op: 'stat' }, undefined, { signal: AbortSignal.timeout(10_000) })).header,
  );
  const denied = stats.filter((r) => r.status === 'fulfilled' && !r.value.ok && r.value.code === 'Denied').length;
  if (denied > 0) {
    const what =
      `${denied} of the ${peers.length} peers refuse this recovery's identity ${node.peerId}: a storage peer serves only the peers its --admit-peers names. ` +
      'Restart the storage peers with --admit-peers auto (every node holding the network secret; the mesh stays closed to others) while you recover, ' +
      'start the recovered gateway (it has the lost gateway\'s peer id again), then restart them with --admit-peers GATEWAY_ID';
    if (denied === stats.filter((r) => r.status === 'fulfilled').length) throw new Error(what);
    say(o.io, what);
  }

  let answered = 0;
  const found = new Map<string, { body: HeadBody; peers: number }>();
  await settleLimited(peers, 8, async (peer) => {
    const list = await heads.fetch(peer, undefined, { signal: AbortSignal.timeout(10_000) });
    answered++;
    for (const h of list) {
      const body = await openHead(o.masterKey, h);
      if (!body) continue;
      const key = `${body.gateway}#${body.seq}`;
      const seen = found.get(key);
      found.set(key, { body, peers: (seen?.peers ?? 0) + 1 });
    }
  });
  const newest = [...found.values()].sort((a, b) => b.body.seq - a.body.seq || b.body.time - a.body.time)[0];
  if (!newest) {
    throw new Error(
      `none of the ${answered} peers that answered (of ${peers.length}) keeps a catalog head made with this master key: check the kit, and that --bootstrap names the gateway's storage peers`,
    );
  }
  const gateways = new Set([...found.values()].map((f) => f.body.gateway));
  if (gateways.size > 1) say(o.io, `heads of ${gateways.size} gateways share this master key; restoring the newest copy (of ${newest.body.gateway})`);
  const head = newest.body;
  const { meta, image } = await readSnapshot({ masterKey: o.masterKey, network: node.network, head });

  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const dbFile = join(o.dataDir, 'datamesh.db');
  if (o.force) {
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(dbFile + suffix)) renameSync(dbFile + suffix, `${dbFile}.before-recover${suffix}`);
  }
  writeFileSync(dbFile, image, { mode: 0o600 });
  writeFileSync(join(o.dataDir, PEER_KEY_FILE), Buffer.from(meta.peerKey, 'base64'), { mode: 0o600 });
  const db = openDatabase(dbFile);
  try {
    // The restored copy's own shards go once newer copies are durable.
    const kept = JSON.parse(String((db.prepare(`SELECT value FROM ec_meta WHERE name = 'catalog-snapshots'`).get() as { value?: unknown } | undefined)?.value ?? '[]')) as { shards: { id: string }[] }[];
    kept.push({ seq: head.seq, shards: snapshotShards(head) } as (typeof kept)[number]);
    db.prepare(`INSERT INTO ec_meta (name, value) VALUES ('catalog-snapshots', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`).run(JSON.stringify(kept));
    const short = await checkShards(node, db, head.gateway);
    const after = await writtenAfter(node, db, head, peers, new Set(kept.flatMap((k) => k.shards.map((s) => s.id))));
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    const newestMs = (db.prepare(
      `SELECT MAX(t) AS t FROM (SELECT MAX(last_modified) AS t FROM objects UNION ALL SELECT MAX(last_modified) FROM parts
         UNION ALL SELECT MAX(initiated) FROM uploads UNION ALL SELECT MAX(created) FROM buckets)`,
    ).get() as { t: number | null }).t;
    return {
      data: o.dataDir,
      gateway: head.gateway,
      copy: { seq: head.seq, takenAt: new Date(head.time).toISOString(), peersWithHead: newest.peers },
      peers: { asked: peers.length, answered },
      newestChange: newestMs === null ? null : new Date(newestMs).toISOString(),
      buckets: count('SELECT COUNT(*) AS n FROM buckets'),
      objects: count('SELECT COUNT(*) AS n FROM objects'),
      accounts: count('SELECT COUNT(*) AS n FROM accounts'),
      accessKeys: count(`SELECT COUNT(*) AS n FROM access_keys WHERE status = 'active'`),
      openUploads: count('SELECT COUNT(*) AS n FROM uploads'),
      objectsShortOfK: short,
      writtenAfterCopy: { shards: after },
    };
  } finally {
    db.close();
  }
}

/** Objects with a segment short of k shards on the reachable peers (the old gateway's own disk is gone). */
async function checkShards(node: MeshNode, db: DB, gateway: string): Promise<RecoverReport['objectsShortOfK']> {
  const rows = db
    .prepare(
      `SELECT s.manifest, s.segment, s.id, s.peer, m.k FROM ec_shards s JOIN ec_manifests m ON m.id = s.manifest WHERE m.state = 'live'`,
    )
    .all() as { manifest: string; segment: number; id: string; peer: string; k: number }[];
  // One stat per peer first: shards on a peer that does not answer (or on the lost gateway) are missing.
  const holders = [...new Set(rows.map((r) => r.peer))].filter((p) => p !== gateway);
  const up = new Set<string>();
  await settleLimited(holders, 8, async (peer) => {
    const { header } = await node.libp2p.services.shards.request(peerIdFromString(peer), { op: 'stat' }, undefined, { signal: AbortSignal.timeout(5_000) });
    if (header.ok) up.add(peer);
  });
  const present = new Map<string, number>();
  const results = await settleLimited(rows, 16, async (r) => (up.has(r.peer) ? node.network.has(r.peer, r.id) : false));
  rows.forEach((r, i) => {
    const key = `${r.manifest}\0${r.segment}`;
    const ok = results[i]!.status === 'fulfilled' && (results[i] as PromiseFulfilledResult<boolean>).value;
    present.set(key, (present.get(key) ?? 0) + (ok ? 1 : 0));
  });
  const shortSegments = new Map<string, number>();
  for (const r of rows) {
    const key = `${r.manifest}\0${r.segment}`;
    if ((present.get(key) ?? 0) < r.k && !shortSegments.has(key)) shortSegments.set(key, 1);
  }
  const byManifest = new Map<string, number>();
  for (const key of shortSegments.keys()) {
    const m = key.split('\0')[0]!;
    byManifest.set(m, (byManifest.get(m) ?? 0) + 1);
  }
  if (byManifest.size === 0) return [];
  const objects = db
    .prepare(`SELECT o.bucket, o.key, p.manifest_id AS manifest FROM pieces p JOIN objects o ON o.id = p.object_id WHERE p.manifest_id IN (SELECT value FROM json_each(?))`)
    .all(JSON.stringify([...byManifest.keys()])) as { bucket: string; key: string; manifest: string }[];
  const out = new Map<string, { bucket: string; key: string; segments: number }>();
  for (const o of objects) {
    const id = `${o.bucket}/${o.key}`;
    const e = out.get(id) ?? { bucket: o.bucket, key: o.key, segments: 0 };
    e.segments += byManifest.get(o.manifest) ?? 0;
    out.set(id, e);
  }
  return [...out.values()];
}

/** Shards the gateway stored on the peers since (a minute before) the copy that neither it nor a catalog copy names. */
async function writtenAfter(node: MeshNode, db: DB, head: HeadBody, peers: string[], catalogShards: Set<string>): Promise<number> {
  const heads = node.libp2p.services.heads;
  const since = head.time - 60_000; // the peers' clocks are not the gateway's
  const known = db.prepare('SELECT 1 FROM ec_shards WHERE id = ? LIMIT 1');
  const ours = catalogShards;
  const unknown = new Set<string>();
  await settleLimited(peers, 8, async (peer) => {
    for (const id of await heads.ownedSince(peer, head.gateway, since, { signal: AbortSignal.timeout(10_000) })) {
      if (!ours.has(id) && known.get(id) === undefined) unknown.add(id);
    }
  });
  return unknown.size;
}

export function renderReport(r: RecoverReport): string {
  const lines = [
    `recovered the catalog of gateway ${r.gateway} into ${r.data}`,
    `  copy #${r.copy.seq}, taken ${r.copy.takenAt} (its head was on ${r.copy.peersWithHead} of ${r.peers.answered} peers that answered; ${r.peers.asked} asked)`,
    `  newest change in it: ${r.newestChange ?? 'none'}`,
    `  buckets: ${r.buckets}, objects: ${r.objects}, accounts: ${r.accounts} (${r.accessKeys} active access keys), open multipart uploads: ${r.openUploads}`,
  ];
  if (r.objectsShortOfK.length === 0) lines.push('  every object has at least k shards on the reachable peers');
  else {
    lines.push(`  ${r.objectsShortOfK.length} objects have segments short of k shards (unreadable until those peers come back):`);
    for (const o of r.objectsShortOfK.slice(0, 50)) lines.push(`    ${o.bucket}/${o.key} (${o.segments} segments)`);
    if (r.objectsShortOfK.length > 50) lines.push(`    ... and ${r.objectsShortOfK.length - 50} more (--json lists them all)`);
  }
  if (r.writtenAfterCopy.shards > 0) {
    lines.push(`  LOST: ${r.writtenAfterCopy.shards} shards the gateway stored after this copy belong to writes the copy does not record (objects written or overwritten after ${r.copy.takenAt}); they are not restored`);
  } else lines.push('  no shard on the peers is newer than this copy: nothing written later was found');
  lines.push(`next: datamesh serve --data ${r.data} --bootstrap ... (then datamesh admin scrub rebuilds the shards the old gateway's disk held)`);
  return lines.join('\n') + '\n';
}
