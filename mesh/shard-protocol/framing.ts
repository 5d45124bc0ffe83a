/**
 * Length-prefixed frames on a libp2p stream: a varint length (at most MAX_LENGTH_BYTES bytes)
 * then that many bytes, never more than MAX_MESSAGE_BYTES. Unlike a plain varint reader this
 * gives up on an endless length prefix at once, so junk cannot hold a stream open.
 */
import type { AbortOptions, PeerId, Stream } from '@libp2p/interface';
import type { ConnectionManager } from '@libp2p/interface-internal';
import { byteStream } from '@libp2p/utils';
import * as varint from 'uint8-varint';
import { Uint8ArrayList } from 'uint8arraylist';
import { MAX_MESSAGE_BYTES } from '../constants.ts';
import { ProtocolViolation } from './messages.ts';

const MAX_LENGTH_BYTES = varint.encodingLength(MAX_MESSAGE_BYTES);

export interface FrameStream {
  /** The next frame's bytes; throws ProtocolViolation for a bad or oversized length. */
  read(options?: AbortOptions): Promise<Uint8ArrayList>;
  write(frame: Uint8ArrayList, options?: AbortOptions): Promise<void>;
}

export function frameStream(stream: Stream, maxMessageBytes = MAX_MESSAGE_BYTES): FrameStream {
  const bytes = byteStream(stream, { maxBufferSize: maxMessageBytes + 64 * 1024 });
  return {
    async read(options) {
      const prefix = new Uint8ArrayList();
      for (;;) {
        const b = await bytes.read({ ...options, bytes: 1 });
        prefix.append(b);
        if ((b.get(0) & 0x80) === 0) break;
        if (prefix.byteLength >= MAX_LENGTH_BYTES) throw new ProtocolViolation(`length prefix longer than ${MAX_LENGTH_BYTES} bytes`);
      }
      const length = varint.decode(prefix);
      if (length === 0) throw new ProtocolViolation('empty frame');
      if (length > maxMessageBytes) throw new ProtocolViolation(`frame of ${length} bytes exceeds the limit of ${maxMessageBytes}`);
      return bytes.read({ ...options, bytes: length });
    },
    async write(frame, options) {
      await bytes.write(new Uint8ArrayList<ArrayBufferLike>(varint.encode(frame.byteLength), ...frame), options);
    },
  };
}

/**
 * One request on a new stream of `protocol` to `peer`: writes `frame`, reads the one frame that
 * answers it and closes; aborts the stream on any error (and rethrows it).
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
    await lp.write(frame, options);
    const answer = await lp.read(options);
    await stream.close(options).catch(() => {});
    return answer;
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}
