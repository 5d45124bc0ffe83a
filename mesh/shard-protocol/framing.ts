/**
 * Length-prefixed frames on a libp2p stream, read incrementally: a varint frame length (at most
 * MAX_LENGTH_BYTES bytes, never more than MAX_MESSAGE_BYTES), a varint header length and the JSON
 * header (at most MAX_HEADER_BYTES), then the body. The reader holds at most READ_HIGH_WATER bytes
 * of what the remote sent and pauses the stream beyond (yamux then stops granting window), so
 * a peer that sends a large frame costs memory only once the caller decided to read its body into
 * a buffer of exactly its size. An endless length prefix is refused at once.
 */
import type { AbortOptions, PeerId, Stream } from '@libp2p/interface';
import type { ConnectionManager } from '@libp2p/interface-internal';
import * as varint from 'uint8-varint';
import { Uint8ArrayList } from 'uint8arraylist';
import { MAX_HEADER_BYTES, MAX_MESSAGE_BYTES } from '../constants.ts';
import { ProtocolViolation } from './messages.ts';

const MAX_LENGTH_BYTES = varint.encodingLength(MAX_MESSAGE_BYTES);
const MAX_HEADER_LENGTH_BYTES = varint.encodingLength(MAX_HEADER_BYTES);
/** Bytes buffered ahead of the reader before the stream is paused. */
export const READ_HIGH_WATER = 1024 * 1024;

export interface FrameHead {
  /** The varint header length followed by the JSON header. */
  head: Uint8ArrayList;
  /** The bytes of the frame after the header, still unread. */
  bodyLength: number;
}

export interface FrameStream {
  /** The next frame's length prefix and header; the body is left to readBody. */
  readHead(options?: AbortOptions): Promise<FrameHead>;
  /** The next `length` bytes, into a buffer of exactly that size. */
  readBody(length: number, options?: AbortOptions): Promise<Uint8Array>;
  /** A whole frame's bytes, whatever they hold (the decoder checks them), up to maxMessageBytes. */
  read(options?: AbortOptions): Promise<Uint8ArrayList>;
  write(frame: Uint8ArrayList, options?: AbortOptions): Promise<void>;
  /**
   * Waits for the next frame of a reused stream: true once a byte of it is here, false when the
   * remote ended the stream cleanly between frames.
   */
  more(options?: AbortOptions): Promise<boolean>;
  /** Bytes received and not read yet. */
  readonly buffered: number;
}

export function frameStream(stream: Stream, maxMessageBytes = MAX_MESSAGE_BYTES): FrameStream {
  const buf = new Uint8ArrayList();
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  let ended = false;
  stream.addEventListener('message', (evt) => {
    buf.append(evt.data);
    if (buf.byteLength >= READ_HIGH_WATER && stream.readStatus === 'readable') stream.pause();
    wake?.();
  });
  stream.addEventListener('close', (evt) => {
    failure = (evt as unknown as { error?: Error }).error;
    ended = true;
    wake?.();
  });
  stream.addEventListener('remoteCloseWrite', () => {
    ended = true;
    wake?.();
  });

  // The stream may still hold bytes it has not dispatched yet (it does so on a timer) when the
  // remote's end of writing is already known: the stream ended only once they are read.
  const over = (): boolean => ended && stream.readBufferLength === 0;
  /** Resolves at the next message, close or end of the stream (or rejects when `options` abort). */
  const nextEvent = async (ready: () => boolean, options?: AbortOptions): Promise<void> => {
    if (failure !== undefined) throw failure;
    options?.signal?.throwIfAborted();
    if (stream.readStatus === 'paused') stream.resume();
    if (ready()) return; // resuming may have delivered what was waited for
    await new Promise<void>((resolve, reject) => {
      const signal = options?.signal;
      const onAbort = () => reject(signal!.reason ?? new Error('aborted'));
      wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    wake = undefined;
  };
  const waitFor = async (n: number, options?: AbortOptions): Promise<void> => {
    while (buf.byteLength < n) {
      if (failure !== undefined) throw failure;
      if (over()) throw new ProtocolViolation(`stream ended after ${buf.byteLength} of ${n} expected bytes`);
      await nextEvent(() => buf.byteLength >= n, options);
    }
  };
  const take = (n: number): Uint8ArrayList => {
    const out = buf.sublist(0, n);
    buf.consume(n);
    return out;
  };
  const readVarint = async (maxBytes: number, what: string, options?: AbortOptions): Promise<{ value: number; bytes: Uint8ArrayList }> => {
    const prefix = new Uint8ArrayList();
    for (;;) {
      await waitFor(1, options);
      const b = take(1);
      prefix.append(b);
      if ((b.get(0) & 0x80) === 0) break;
      if (prefix.byteLength >= maxBytes) throw new ProtocolViolation(`${what} longer than ${maxBytes} bytes`);
    }
    return { value: varint.decode(prefix), bytes: prefix };
  };

  const stream_: FrameStream = {
    get buffered() {
      return buf.byteLength;
    },
    async more(options) {
      for (;;) {
        if (buf.byteLength > 0) return true;
        if (failure !== undefined) throw failure;
        if (over()) return false;
        await nextEvent(() => buf.byteLength > 0 || over() || failure !== undefined, options);
      }
    },
    async readHead(options) {
      const { value: length } = await readVarint(MAX_LENGTH_BYTES, 'length prefix', options);
      if (length === 0) throw new ProtocolViolation('empty frame');
      if (length > maxMessageBytes) throw new ProtocolViolation(`frame of ${length} bytes exceeds the limit of ${maxMessageBytes}`);
      const { value: headerLength, bytes } = await readVarint(MAX_HEADER_LENGTH_BYTES + 1, 'header length', options);
      if (headerLength > MAX_HEADER_BYTES) throw new ProtocolViolation(`header length ${headerLength} exceeds ${MAX_HEADER_BYTES}`);
      if (bytes.byteLength + headerLength > length) throw new ProtocolViolation('header runs past the end of the frame');
      await waitFor(headerLength, options);
      const head = new Uint8ArrayList(bytes, take(headerLength));
      return { head, bodyLength: length - head.byteLength };
    },
    async readBody(length, options) {
      const out = new Uint8Array(length);
      let offset = 0;
      while (offset < length) {
        await waitFor(1, options);
        // copied straight out of the buffered chunks, without a sublist per read
        const n = Math.min(buf.byteLength, length - offset);
        for (const chunk of buf) {
          const left = length - offset;
          if (left === 0) break;
          const piece = chunk.byteLength <= left ? chunk : chunk.subarray(0, left);
          out.set(piece, offset);
          offset += piece.byteLength;
        }
        buf.consume(n);
      }
      return out;
    },
    async read(options) {
      const { value: length } = await readVarint(MAX_LENGTH_BYTES, 'length prefix', options);
      if (length === 0) throw new ProtocolViolation('empty frame');
      if (length > maxMessageBytes) throw new ProtocolViolation(`frame of ${length} bytes exceeds the limit of ${maxMessageBytes}`);
      return new Uint8ArrayList(await stream_.readBody(length, options));
    },
    async write(frame, options) {
      const data = new Uint8ArrayList<ArrayBufferLike>(varint.encode(frame.byteLength), ...frame);
      for (const chunk of data) if (!stream.send(chunk)) await stream.onDrain(options);
    },
  };
  return stream_;
}

/**
 * Writes `frame` while reading the answer with `read`: a peer may answer (refuse a put) after the
 * header, before taking the body. Throws the read's error (the write's when both failed); `sent`
 * says whether the frame went out whole (a stream whose request was cut short is not reused).
 */
export async function exchangeFrame<T>(lp: FrameStream, frame: Uint8ArrayList, read: () => Promise<T>, options: AbortOptions): Promise<{ answer: T; sent: boolean }> {
  const [written, answer] = await Promise.allSettled([lp.write(frame, options), read()]);
  if (answer.status === 'rejected') throw written.status === 'rejected' ? written.reason : answer.reason;
  return { answer: answer.value, sent: written.status === 'fulfilled' };
}

/**
 * One request on a new stream of `protocol` to `peer`: writes `frame` while reading the one frame
 * that answers it and closes; aborts the stream on any error (and rethrows it).
 */
export async function requestFrame(
  connectionManager: ConnectionManager,
  peer: PeerId,
  protocol: string,
  frame: Uint8ArrayList,
  options: AbortOptions,
  maxMessageBytes = MAX_MESSAGE_BYTES,
): Promise<Uint8ArrayList> {
  const stream = await connectionManager.openStream(peer, protocol, options);
  const lp = frameStream(stream, maxMessageBytes);
  try {
    const { answer } = await exchangeFrame(lp, frame, () => lp.read(options), options);
    await stream.close(options).catch(() => {});
    return answer;
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}
