/**
 * The soak's checker: a history of operations on keys (each with when it was invoked, when it
 * completed, and whether it took effect: 'ok', 'fail' (certainly not: a 4xx) or 'unknown' (a 5xx,
 * a cut connection, a timeout: it may have)) -> the anomalies. Each key is a register; a write
 * stores a value id (a DELETE stores "absent"). A read that returned value V (its bytes checked
 * against V by the caller) is legal when some write of V to that key may have happened before the
 * read ended and no acknowledged write certainly came between it and the read's start. Pure: the
 * soak runs it at the end, and scripts/soak-checker.test.ts feeds it each anomaly.
 */

export const ABSENT = '<absent>';
/** A write whose value is not known to the client (a CopyObject that failed): any value of its source. */
export const ANY = '<any>';

export type Outcome = 'ok' | 'fail' | 'unknown';

export interface WriteOp {
  kind: 'write';
  key: string;
  /** The value id written, ABSENT for a DELETE, ANY when unknown. */
  value: string;
  op: string;
  invoke: number;
  complete: number;
  outcome: Outcome;
}

export interface ReadOp {
  kind: 'read';
  key: string;
  /** The value id the read returned (ABSENT for NoSuchKey); undefined when the read failed. */
  value?: string;
  /** The returned bytes did not match the value they were tagged with (a torn or foreign read). */
  torn?: boolean;
  op: string;
  invoke: number;
  complete: number;
  outcome: Outcome;
  /** The final verification, after every fault healed: a failed read there is a lost write. */
  final?: boolean;
}

export type HistoryOp = WriteOp | ReadOp;

export interface Anomaly {
  kind: 'lost-acknowledged-write' | 'never-written' | 'torn' | 'resurrected-delete' | 'order';
  key: string;
  read: ReadOp;
  detail: string;
}

export interface CheckResult {
  reads: number;
  writes: number;
  lostAcknowledgedWrites: number;
  neverWrittenOrTorn: number;
  resurrectedDeletes: number;
  orderViolations: number;
  anomalies: Anomaly[];
}

const INITIAL: WriteOp = { kind: 'write', key: '', value: ABSENT, op: 'initial', invoke: -Infinity, complete: -Infinity, outcome: 'ok' };

export function check(history: readonly HistoryOp[]): CheckResult {
  const writes = new Map<string, WriteOp[]>();
  const reads: ReadOp[] = [];
  for (const h of history) {
    if (h.kind === 'write') {
      if (h.outcome === 'fail') continue;
      const list = writes.get(h.key) ?? [{ ...INITIAL, key: h.key }];
      list.push(h);
      writes.set(h.key, list);
    } else reads.push(h);
  }
  const anomalies: Anomaly[] = [];
  for (const r of reads) {
    const ws = writes.get(r.key) ?? [{ ...INITIAL, key: r.key }];
    if (r.value === undefined) {
      if (r.final && r.outcome !== 'fail') {
        const acked = ws.filter((w) => w.outcome === 'ok' && w.value !== ABSENT);
        if (acked.length > 0) anomalies.push({ kind: 'lost-acknowledged-write', key: r.key, read: r, detail: `the final read failed (${r.op})` });
      }
      continue;
    }
    if (r.torn) {
      anomalies.push({ kind: 'torn', key: r.key, read: r, detail: `bytes do not match value ${r.value}` });
      continue;
    }
    // writes that certainly completed before the read began: the latest of them (by completion)
    // bounds what the read may see
    const possible = ws.filter((w) => w.invoke < r.complete);
    const overwritten = (w: WriteOp) => ws.some((w2) => w2 !== w && w2.outcome === 'ok' && w.complete < w2.invoke && w2.complete < r.invoke);
    const legal = possible.filter((w) => !overwritten(w));
    if (legal.some((w) => w.value === r.value || (w.value === ANY && r.value !== ABSENT))) continue;
    const ever = ws.filter((w) => w.value === r.value);
    if (ever.length === 0 && r.value !== ABSENT) {
      anomalies.push({ kind: 'never-written', key: r.key, read: r, detail: `value ${r.value} was never written to this key` });
    } else if (r.value === ABSENT) {
      const last = legal.filter((w) => w.outcome === 'ok').sort((a, b) => b.complete - a.complete)[0];
      anomalies.push({
        kind: r.final ? 'lost-acknowledged-write' : 'order',
        key: r.key,
        read: r,
        detail: `NoSuchKey, but ${last?.op ?? 'a write'} of ${last?.value ?? '?'} was acknowledged before the read began`,
      });
    } else {
      const by = ws.find((w2) => w2.outcome === 'ok' && ever.every((w) => w.complete < w2.invoke) && w2.complete < r.invoke);
      anomalies.push({
        kind: by?.value === ABSENT ? 'resurrected-delete' : 'order',
        key: r.key,
        read: r,
        detail: `read ${r.value}, overwritten by an acknowledged ${by?.op ?? 'write'} of ${by?.value ?? '?'} before the read began`,
      });
    }
  }
  const count = (k: Anomaly['kind']) => anomalies.filter((a) => a.kind === k).length;
  return {
    reads: reads.length,
    writes: history.length - reads.length,
    lostAcknowledgedWrites: count('lost-acknowledged-write'),
    neverWrittenOrTorn: count('never-written') + count('torn'),
    resurrectedDeletes: count('resurrected-delete'),
    orderViolations: count('order'),
    anomalies,
  };
}
