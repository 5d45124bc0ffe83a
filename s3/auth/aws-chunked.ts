/**
 * The aws-chunked body decoder (Content-Encoding: aws-chunked):
 *
 *   hex-size[;chunk-signature=sig]\r\n data \r\n ... 0[;chunk-signature=sig]\r\n
 *   [name:value\r\n ...] [x-amz-trailer-signature:sig\r\n] \r\n
 *
 * In the signed modes every chunk's signature is verified before its data is yielded (so at most
 * one chunk is held, up to maxChunkSize); in the unsigned modes data is yielded as it arrives, as
 * subarrays of the input. Framing may be split anywhere across input pieces.
 */
import { createHash, type Hash } from 'node:crypto';
import { Errors } from '../../src/core/errors.ts';
import { AuthErrors } from './auth-errors.ts';
import { EMPTY_SHA256, chunkStringToSign, hmacHex, sha256Hex, signaturesEqual, trailerStringToSign } from './signing.ts';
import type { ChunkSigning, PayloadMode } from './types.ts';

export interface AwsChunkedOptions {
  mode: PayloadMode;
  /** AuthResult.chunkSigning; required for the STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] modes. */
  signing?: ChunkSigning;
  /** x-amz-decoded-content-length, when sent. */
  decodedLength?: number;
  /** The largest chunk accepted (default 16 MiB): a signed chunk is held whole until verified. */
  maxChunkSize?: number;
}

export interface AwsChunkedBody {
  /** The decoded payload; iterate once. Throws a DomainError on bad framing or signatures. */
  body: AsyncIterable<Uint8Array>;
  /** Trailing headers (names lower-case), verified; complete once `body` has ended. */
  trailers(): Record<string, string>;
}

export const DEFAULT_MAX_CHUNK_SIZE = 16 * 1024 * 1024;
const MAX_LINE = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;
const CHUNK_HEADER = /^([0-9a-fA-F]{1,16})((?:;[^;]*)*)$/;

const malformed = (detail: string) =>
  Errors.invalidRequest(`The aws-chunked request body is malformed: ${detail}. Send a well-formed aws-chunked body.`);
const malformedTrailer = (detail: string) =>
  Errors.invalidRequest(`The aws-chunked trailer is malformed: ${detail}. Send trailing headers as name:value lines.`);

type State = 'header' | 'data' | 'cr' | 'lf' | 'trailer' | 'end';

export function decodeAwsChunked(source: AsyncIterable<Uint8Array>, opts: AwsChunkedOptions): AwsChunkedBody {
  const signed = opts.mode === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' || opts.mode === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
  if (signed && opts.signing === undefined) {
    throw Errors.internal(`decodeAwsChunked: mode ${opts.mode} needs the chunkSigning context that authenticate() returned.`);
  }
  const trailers: Record<string, string> = {};
  return { body: decode(source, opts, signed, trailers), trailers: () => trailers };
}

async function* decode(
  source: AsyncIterable<Uint8Array>,
  opts: AwsChunkedOptions,
  signed: boolean,
  out: Record<string, string>,
): AsyncGenerator<Uint8Array, void, undefined> {
  const maxChunk = opts.maxChunkSize ?? DEFAULT_MAX_CHUNK_SIZE;
  const { decodedLength } = opts;
  const signing = signed ? opts.signing : undefined;
  const acceptsTrailers = opts.mode !== 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
  let state: State = 'header';
  let line = '';
  let remaining = 0;
  let chunk = 0;
  let total = 0;
  let previous = signing?.seedSignature ?? '';
  let chunkSignature: string | undefined;
  let hash: Hash | undefined;
  let held: Uint8Array[] = [];
  const trailerLines: [string, string][] = [];
  let trailerSignature: string | undefined;
  let trailerBytes = 0;
  let blankSeen = false;

  const verifyChunk = (dataSha256: string): void => {
    if (!signing) return;
    if (chunkSignature === undefined) throw AuthErrors.chunkSignature(`chunk ${chunk} carries no chunk-signature`);
    const expected = hmacHex(signing.signingKey, chunkStringToSign(signing.datetime, signing.scope, previous, dataSha256));
    if (!signaturesEqual(expected, chunkSignature)) throw AuthErrors.chunkSignature(`the signature of chunk ${chunk} does not match`);
    previous = expected;
  };

  /** Parses a chunk header line; returns the next state. */
  const onHeader = (text: string): State => {
    const m = CHUNK_HEADER.exec(text);
    if (m === null) throw malformed(`chunk ${chunk + 1} starts with "${text.slice(0, 80)}", not a hex size`);
    chunk++;
    const size = parseInt(m[1]!, 16);
    if (size > maxChunk) throw malformed(`chunk ${chunk} is ${size} bytes, more than the ${maxChunk}-byte limit; send smaller chunks`);
    chunkSignature = undefined;
    for (const ext of m[2]!.split(';').slice(1)) {
      const eq = ext.indexOf('=');
      if (eq !== -1 && ext.slice(0, eq).trim() === 'chunk-signature') chunkSignature = ext.slice(eq + 1).trim();
    }
    if (size === 0) {
      verifyChunk(EMPTY_SHA256);
      return 'trailer';
    }
    remaining = size;
    if (signed) hash = createHash('sha256');
    return 'data';
  };

  /** Verifies the trailer signature and the decoded length, publishes the trailers. */
  const finish = (): State => {
    if (opts.mode === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' && signing) {
      if (trailerSignature === undefined) throw AuthErrors.chunkSignature('the trailer carries no x-amz-trailer-signature');
      const canonical = trailerLines.map(([n, v]) => `${n}:${v}\n`).join('');
      const expected = hmacHex(signing.signingKey, trailerStringToSign(signing.datetime, signing.scope, previous, sha256Hex(canonical)));
      if (!signaturesEqual(expected, trailerSignature)) throw AuthErrors.chunkSignature('the trailer signature does not match');
    }
    if (decodedLength !== undefined && total < decodedLength) {
      throw Errors.incompleteBody(
        `The aws-chunked body carried ${total} of the ${decodedLength} bytes declared in x-amz-decoded-content-length; resend the whole body.`,
      );
    }
    for (const [n, v] of trailerLines) out[n] = v;
    return 'end';
  };

  /** Takes one trailer line; returns the next state. */
  const onTrailer = (text: string): State => {
    if (text === '') {
      // Some writers put an empty line between the final chunk and the trailers; wait for more.
      if (acceptsTrailers && !blankSeen && trailerLines.length === 0 && trailerSignature === undefined) {
        blankSeen = true;
        return 'trailer';
      }
      return finish();
    }
    if (!acceptsTrailers) throw malformed('trailing headers follow the final chunk, but x-amz-content-sha256 announces no trailer');
    trailerBytes += text.length;
    if (trailerBytes > MAX_TRAILER_BYTES) throw malformedTrailer(`the trailing headers exceed ${MAX_TRAILER_BYTES} bytes`);
    const colon = text.indexOf(':');
    if (colon <= 0) throw malformedTrailer(`"${text.slice(0, 80)}" is not a name:value line`);
    const name = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') trailerSignature = value;
    else trailerLines.push([name, value]);
    return 'trailer';
  };

  for await (const input of source) {
    const n = input.length;
    let pos = 0;
    while (pos < n) {
      if (state === 'data') {
        const take = Math.min(remaining, n - pos);
        const piece = input.subarray(pos, pos + take);
        pos += take;
        remaining -= take;
        total += take;
        if (decodedLength !== undefined && total > decodedLength) {
          throw malformed(`the chunks carry more than the ${decodedLength} bytes declared in x-amz-decoded-content-length`);
        }
        if (hash) {
          hash.update(piece);
          held.push(piece);
        } else {
          yield piece;
        }
        if (remaining === 0) state = 'cr';
      } else if (state === 'cr' || state === 'lf') {
        if (input[pos] !== (state === 'cr' ? 0x0d : 0x0a)) throw malformed(`the data of chunk ${chunk} is not followed by CRLF`);
        pos++;
        if (state === 'cr') {
          state = 'lf';
          continue;
        }
        state = 'header';
        if (hash) {
          verifyChunk(hash.digest('hex'));
          hash = undefined;
          const verified = held;
          held = [];
          for (const p of verified) yield p;
        }
      } else if (state === 'end') {
        throw malformed('bytes follow the end of the body');
      } else {
        const nl = input.indexOf(0x0a, pos);
        const stop = nl === -1 ? n : nl;
        line += Buffer.from(input.buffer, input.byteOffset + pos, stop - pos).toString('latin1');
        if (line.length > MAX_LINE) throw malformed(`a chunk header or trailer line is longer than ${MAX_LINE} bytes`);
        if (nl === -1) break;
        pos = nl + 1;
        if (!line.endsWith('\r')) throw malformed('a chunk header or trailer line does not end with CRLF');
        const text = line.slice(0, -1);
        line = '';
        state = state === 'header' ? onHeader(text) : onTrailer(text);
      }
    }
  }

  if (state === 'trailer') {
    // Lenient, like S3 and its clones: the final empty line (or even the last CRLF) may be missing.
    if (line !== '') state = onTrailer(line.endsWith('\r') ? line.slice(0, -1) : line);
    if (state === 'trailer') state = finish();
  }
  if (state !== 'end') {
    throw Errors.incompleteBody(
      `The aws-chunked body ended early, in chunk ${Math.max(chunk, 1)} after ${total} decoded bytes; resend the whole body.`,
    );
  }
}
