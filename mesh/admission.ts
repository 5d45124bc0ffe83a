/**
 * Admission: which peers holding the network secret this node works with. On a gateway the
 * table holds the storage peers: a new one joins `pending` and gets no shard until an operator
 * admits it (`datamesh admin mesh admit PEER_ID`), or at once with `--admit-peers auto`;
 * `evicted` takes it out again (its shards are rebuilt elsewhere); `untrusted` is the same, set by
 * the gateway's audits when a peer failed too many challenges. On a storage peer it holds the
 * gateways it serves (`--admit-peers GATEWAY_ID,...`). Every node answers shard requests only from
 * admitted peers. Kept in DIR/mesh.db, so a restart keeps every decision.
 */
import { migrate, type DB } from '../src/core/db.ts';

export type AdmissionState = 'pending' | 'admitted' | 'evicted' | 'untrusted';

/** `auto`: admit every peer that holds the secret; `manual`: new peers wait; a list: these peers are admitted. */
export type AdmitPolicy = { mode: 'auto' } | { mode: 'manual' } | { mode: 'list'; peers: readonly string[] };

/** Reads --admit-peers: `auto`, `manual`, or peer ids. */
export function parseAdmitPeers(values: readonly string[]): AdmitPolicy {
  if (values.length === 0 || (values.length === 1 && values[0] === 'manual')) return { mode: 'manual' };
  if (values.length === 1 && values[0] === 'auto') return { mode: 'auto' };
  return { mode: 'list', peers: values };
}

const MIGRATIONS = [
  `CREATE TABLE peer_admission (
     peer TEXT PRIMARY KEY,
     state TEXT NOT NULL CHECK (state IN ('pending', 'admitted', 'evicted')),
     since INTEGER NOT NULL
   ) WITHOUT ROWID`,
  // audits mark a peer that failed too many challenges untrusted (src/data/audit.ts)
  `CREATE TABLE peer_admission_new (
     peer TEXT PRIMARY KEY,
     state TEXT NOT NULL CHECK (state IN ('pending', 'admitted', 'evicted', 'untrusted')),
     since INTEGER NOT NULL
   ) WITHOUT ROWID;
   INSERT INTO peer_admission_new SELECT peer, state, since FROM peer_admission;
   DROP TABLE peer_admission;
   ALTER TABLE peer_admission_new RENAME TO peer_admission;`,
];

export class Admission {
  private readonly db: DB;
  private readonly policy: AdmitPolicy;
  private readonly cache = new Map<string, { state: AdmissionState; since: number }>();
  private readonly listeners = new Set<(peer: string, state: AdmissionState) => void>();

  constructor(db: DB, policy: AdmitPolicy) {
    this.db = db;
    this.policy = policy;
    migrate(db, 'mesh-admission', MIGRATIONS);
    for (const r of db.prepare('SELECT peer, state, since FROM peer_admission').all() as { peer: string; state: AdmissionState; since: number }[])
      this.cache.set(r.peer, { state: r.state, since: r.since });
    // Listed peers are admitted (unless an operator evicted them or audits distrusted them since).
    if (policy.mode === 'list') for (const p of policy.peers) if (this.cache.get(p) === undefined || this.cache.get(p)!.state === 'pending') this.set(p, 'admitted');
  }

  get mode(): AdmitPolicy['mode'] {
    return this.policy.mode;
  }

  /** A peer that holds the secret showed up: recorded `pending`, or `admitted` under `auto`. */
  seen(peer: string): AdmissionState {
    const known = this.cache.get(peer);
    if (known !== undefined) return known.state;
    return this.set(peer, this.policy.mode === 'auto' ? 'admitted' : 'pending');
  }

  state(peer: string): AdmissionState | undefined {
    return this.cache.get(peer)?.state;
  }

  since(peer: string): number | undefined {
    return this.cache.get(peer)?.since;
  }

  isAdmitted(peer: string): boolean {
    return this.cache.get(peer)?.state === 'admitted';
  }

  /** Peers in `state`. */
  inState(state: AdmissionState): string[] {
    return [...this.cache.entries()].filter(([, v]) => v.state === state).map(([p]) => p);
  }

  admit(peer: string): AdmissionState {
    return this.set(peer, 'admitted');
  }

  evict(peer: string): AdmissionState {
    return this.set(peer, 'evicted');
  }

  /** Audits caught the peer without shards it should hold: out of placement, drained like an evicted peer. */
  distrust(peer: string): AdmissionState {
    return this.set(peer, 'untrusted');
  }

  onChange(cb: (peer: string, state: AdmissionState) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private set(peer: string, state: AdmissionState): AdmissionState {
    if (this.cache.get(peer)?.state === state) return state;
    const since = Date.now();
    this.db.prepare('INSERT INTO peer_admission (peer, state, since) VALUES (?, ?, ?) ON CONFLICT(peer) DO UPDATE SET state = excluded.state, since = excluded.since').run(peer, state, since);
    this.cache.set(peer, { state, since });
    for (const cb of this.listeners) cb(peer, state);
    return state;
  }
}
