/**
 * The read path: which bytes a GET serves (range or partNumber) and the body stream over the
 * object's pieces. The stream honours the AbortSignal and is destroyed with an error when a piece
 * cannot be read or comes back short: it never ends cleanly with bytes missing.
 */
import { Readable, addAbortSignal } from 'node:stream';
import type { ByteRange, RangeSpec } from '../core/object-store.ts';
import { DomainError, Errors } from '../core/errors.ts';
import type { DataStore } from '../data/data-store.ts';
import type { ObjectRecord, Piece } from './catalog-schema.ts';
import { resolveRange } from '../core/range.ts';

export { MAX_PART_NUMBER, checkPartNumber } from '../core/object-store.ts';
import { checkPartNumber } from '../core/object-store.ts';

export function invalidPartNumber(n: number, count: number): DomainError {
  return new DomainError(
    'InvalidPartNumber',
    `The requested partnumber is not satisfiable: part ${n} was asked for and the object has ${count} part${count === 1 ? '' : 's'}.`,
    { PartNumberRequested: String(n), ActualPartCount: String(count) },
  );
}

/**
 * The bytes of part `n` (1-based, by position) of an object. A single-PUT object has one part,
 * the whole object. Undefined for part 1 of an empty object (nothing to range over).
 */
export function partRange(o: ObjectRecord, pieces: readonly Piece[], n: number): { range?: ByteRange; size: number; piece?: Piece } {
  checkPartNumber(n);
  const count = o.partsCount ?? 1;
  if (n > count || n > Math.max(pieces.length, 1)) throw invalidPartNumber(n, count);
  if (o.partsCount === undefined) return o.size === 0 ? { size: 0 } : { range: { start: 0, end: o.size - 1 }, size: o.size };
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += pieces[i]!.size;
  const piece = pieces[n - 1]!;
  return piece.size === 0 ? { size: 0, piece } : { range: { start, end: start + piece.size - 1 }, size: piece.size, piece };
}

/** The range a GET serves: from the Range header or partNumber (not both), or undefined for all. */
export function servedRange(o: ObjectRecord, pieces: readonly Piece[], opts: { range?: RangeSpec; partNumber?: number }): ByteRange | undefined {
  if (opts.range !== undefined && opts.partNumber !== undefined) {
    throw Errors.invalidRequest('Cannot specify both Range header and partNumber query parameter.');
  }
  if (opts.partNumber !== undefined) return partRange(o, pieces, opts.partNumber).range;
  if (opts.range !== undefined) return resolveRange(opts.range, o.size);
  return undefined;
}

/** Streams bytes [start, end) of an object made of `pieces`. */
export function bodyStream(
  data: DataStore,
  label: { bucket: string; key: string },
  pieces: readonly Piece[],
  start: number,
  end: number,
  signal?: AbortSignal,
  customerKey?: Uint8Array,
): Readable {
  async function* generate(): AsyncGenerator<Uint8Array> {
    let offset = 0;
    for (const p of pieces) {
      const pStart = offset;
      offset += p.size;
      if (offset <= start || pStart >= end) continue;
      const from = Math.max(start, pStart) - pStart;
      const to = Math.min(end, offset) - pStart;
      let got = 0;
      for await (const chunk of data.read(p.manifestId, { start: from, end: to, label, ...(signal ? { signal } : {}), ...(customerKey ? { customerKey } : {}) })) {
        got += chunk.byteLength;
        if (got > to - from) throw Errors.internal(`the data store returned more than the ${to - from} bytes asked for from ${label.bucket}/${label.key}`);
        yield chunk;
      }
      if (got !== to - from) {
        throw Errors.internal(`reading ${label.bucket}/${label.key} stopped after ${got} of ${to - from} bytes of a piece; retry the request`);
      }
    }
  }
  const stream = Readable.from(generate(), { objectMode: false });
  return signal ? addAbortSignal(signal, stream) : stream;
}
