/**
 * The connection protector of the mesh's private network: the design of `@libp2p/pnet` (each side
 * sends a random nonce, then every byte of the connection is XORed with a keystream of the
 * pre-shared key and the sender's nonce, below Noise), with AES-256-CTR from node:crypto as the
 * keystream. `@libp2p/pnet`'s XSalsa20 (WebAssembly) runs at ~180 MB/s here and breaks once
 * several connections grow its memory (a stale view grows it again on every write, until
 * "WebAssembly.Memory.grow(): Maximum memory size exceeded"); OpenSSL's AES-CTR runs at GB/s.
 * A peer without the key sends and reads noise: its Noise handshake fails and the connection is
 * closed. The key file keeps the pnet format (swarm-key.ts).
 */
import type { AbortOptions, ConnectionProtector, MultiaddrConnection } from '@libp2p/interface';
import { AbstractMultiaddrConnection, byteStream } from '@libp2p/utils';
import { createCipheriv, randomBytes, type Cipher } from 'node:crypto';
import type { Uint8ArrayList } from 'uint8arraylist';

const NONCE_BYTES = 16;

/** The 32 key bytes of a pnet key file's text (swarm-key.ts checked the format). */
export function swarmKeyBytes(text: Uint8Array): Buffer {
  const hex = new TextDecoder().decode(text).trim().split(/\r?\n/)[2] ?? '';
  const key = Buffer.from(hex, 'hex');
  if (key.byteLength !== 32) throw new RangeError('the network secret must hold 32 bytes (64 hex digits)');
  return key;
}

class ProtectedConnection extends AbstractMultiaddrConnection {
  private readonly maConn: MultiaddrConnection;
  private readonly inbound: Cipher;
  private readonly outbound: Cipher;

  constructor(init: { key: Buffer; localNonce: Buffer; remoteNonce: Uint8Array; maConn: MultiaddrConnection; log: MultiaddrConnection['log'] }) {
    super({ log: init.log, remoteAddr: init.maConn.remoteAddr, direction: init.maConn.direction });
    this.maConn = init.maConn;
    // CTR mode: "decrypting" is the same XOR with the sender's keystream.
    this.inbound = createCipheriv('aes-256-ctr', init.key, init.remoteNonce);
    this.outbound = createCipheriv('aes-256-ctr', init.key, init.localNonce);
    this.maConn.addEventListener('message', (evt) => {
      const data = evt.data as Uint8Array | Uint8ArrayList;
      if (data instanceof Uint8Array) this.onData(this.inbound.update(data));
      else for (const buf of data) this.onData(this.inbound.update(buf));
    });
    this.maConn.addEventListener('drain', () => this.onMuxerDrain());
    this.maConn.addEventListener('close', (evt) => {
      if (evt.error != null) {
        if (evt.local === true) this.abort(evt.error);
        else this.onRemoteReset();
      } else {
        this.onTransportClosed();
      }
    });
  }

  async sendClose(options?: AbortOptions): Promise<void> {
    await this.maConn.close(options);
  }

  /**
   * What the layers above queued (Noise's length prefixes, ciphertexts and tags, yamux's frame
   * headers: many small pieces) is encrypted in one call and written to the socket in one write:
   * a write per piece cost a syscall and a cipher call for every few bytes.
   */
  sendData(data: Uint8ArrayList): { sentBytes: number; canSendMore: boolean } {
    const canSendMore = this.maConn.send(this.outbound.update(data.subarray()));
    return { sentBytes: data.byteLength, canSendMore };
  }

  sendReset(err: Error): void {
    this.maConn.abort(err);
  }

  sendPause(): void {
    this.maConn.pause();
  }

  sendResume(): void {
    this.maConn.resume();
  }
}

class PreSharedKeyProtector implements ConnectionProtector {
  readonly [Symbol.toStringTag] = '@datamesh/pnet';
  constructor(
    private readonly key: Buffer,
    private readonly timeoutMs: number,
  ) {}

  async protect(connection: MultiaddrConnection, options?: AbortOptions): Promise<MultiaddrConnection> {
    const log = connection.log.newScope('pnet');
    const localNonce = randomBytes(NONCE_BYTES);
    const opts = options?.signal ? options : { signal: AbortSignal.timeout(this.timeoutMs) };
    const bytes = byteStream(connection);
    const [remote] = await Promise.all([bytes.read({ bytes: NONCE_BYTES, ...opts }), bytes.write(localNonce, opts)]);
    return new ProtectedConnection({ key: this.key, localNonce, remoteNonce: remote.subarray(), maConn: bytes.unwrap(), log });
  }
}

/** libp2p's `connectionProtector` for the mesh: `psk` is the key file's text. */
export function preSharedKey(init: { psk: Uint8Array; timeout?: number }): () => ConnectionProtector {
  const key = swarmKeyBytes(init.psk);
  return () => new PreSharedKeyProtector(key, init.timeout ?? 10_000);
}
