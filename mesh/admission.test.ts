/**
 * Admission and bounded memory at the shard protocol, with real libp2p nodes on loopback: a pending
 * peer is answered `Denied` right after its request header (the gateway neither waits for nor
 * buffers the 60 MiB body it announced), gets no placement, and an admitted peer's stalled puts
 * hold at most the inbound budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Stream } from '@libp2p/interface';
import * as varint from 'uint8-varint';
import { randomBytes } from 'node:crypto';
import { SHARD_PROTOCOL } from './constants.ts';
import { frameStream } from './shard-protocol/framing.ts';
import { decodeResponse } from './shard-protocol/messages.ts';
import type { MeshNode } from './node.ts';
import { TestMesh, waitFor } from './testing/cluster.ts';
import { shardId } from '../src/codec/cid.ts';

const MiB = 1024 * 1024;
const encoder = new TextEncoder();

/** Sends the start of a put frame announcing `bodyBytes`, then `sent` bytes of it, and stops. */
function startPut(stream: Stream, id: string, bodyBytes: number, sent: number): void {
  const header = encoder.encode(JSON.stringify({ op: 'put', id }));
  const headerPart = new Uint8Array([...varint.encode(header.byteLength), ...header]);
  stream.send(new Uint8Array([...varint.encode(headerPart.byteLength + bodyBytes), ...headerPart]));
  if (sent > 0) stream.send(new Uint8Array(sent));
}

describe('admission and bounded memory on the shard protocol', () => {
  const mesh = new TestMesh();
  let gw: MeshNode;
  let pending: MeshNode;
  let member: MeshNode;
  const BUDGET = 8 * MiB;

  beforeAll(async () => {
    gw = await mesh.start({ role: 'gateway', admitPeers: { mode: 'manual' } });
    pending = await mesh.start({ bootstrap: gw.multiaddrs });
    member = await mesh.start({ bootstrap: gw.multiaddrs, maxInboundBytes: BUDGET });
    gw.admission.admit(member.peerId);
    await waitFor('the gateway to know both peers', () => [pending, member].every((n) => gw.peers().some((p) => p.id === n.peerId && p.state === 'up')));
  });
  afterAll(() => mesh.close());

  it('lists a pending peer as pending and never places on it', () => {
    const peers = gw.peers();
    expect(peers.find((p) => p.id === pending.peerId)!.admission).toBe('pending');
    expect(peers.find((p) => p.id === member.peerId)!.admission).toBe('admitted');
    for (let i = 0; i < 20; i++) expect(gw.network.place(Array.from({ length: 6 }, () => shardId(randomBytes(16))))).not.toContain(pending.peerId);
  });

  it('answers a pending peer Denied after the header, without waiting for the 60 MiB body it announced', async () => {
    const stream = await pending.libp2p.dialProtocol(peerIdFromString(gw.peerId), SHARD_PROTOCOL);
    const lp = frameStream(stream);
    startPut(stream, shardId(randomBytes(16)), 60 * MiB, MiB);
    const answer = decodeResponse(await lp.read({ signal: AbortSignal.timeout(20_000) }));
    expect(answer.header).toMatchObject({ ok: false, code: 'Denied' });
    expect(!answer.header.ok && answer.header.reason).toMatch(/not admitted.*datamesh admin mesh admit/);
    expect(gw.libp2p.services.shards.budget.inUse).toBe(0);
    // the same through the protocol's client: it reads the refusal while it is still writing
    const bytes = new Uint8Array(randomBytes(8 * MiB));
    const res = await pending.libp2p.services.shards.request(peerIdFromString(gw.peerId), { op: 'put', id: shardId(bytes) }, bytes, { signal: AbortSignal.timeout(20_000) });
    expect(res.header).toMatchObject({ ok: false, code: 'Denied' });
    expect(await gw.network.has(gw.peerId, shardId(bytes))).toBe(false);
  });

  it('holds at most the inbound budget for an admitted peer\'s stalled puts, and frees it when they go', async () => {
    const service = member.libp2p.services.shards;
    const streams: Stream[] = [];
    for (let i = 0; i < 4; i++) {
      const s = await gw.libp2p.dialProtocol(peerIdFromString(member.peerId), SHARD_PROTOCOL);
      startPut(s, shardId(randomBytes(16)), 6 * MiB, 2 * MiB);
      streams.push(s);
    }
    await waitFor('one stalled put to hold the budget', () => service.budget.inUse === 6 * MiB);
    expect(service.budget.inUse).toBeLessThanOrEqual(BUDGET);
    for (const s of streams) s.abort(new Error('gone'));
    await waitFor('the budget to be free again', () => service.budget.inUse === 0);
    // and the gateway is still served normally
    const bytes = new Uint8Array(randomBytes(64 * 1024));
    const id = shardId(bytes);
    await gw.network.put(member.peerId, id, bytes);
    expect(await gw.network.has(member.peerId, id)).toBe(true);
  });

  it('lets no peer, admitted or not, store, read or delete shards on a gateway: it answers probes only', async () => {
    const bytes = new Uint8Array(randomBytes(1000));
    const id = shardId(bytes);
    const ask = (op: 'put' | 'get' | 'stat') =>
      member.libp2p.services.shards.request(peerIdFromString(gw.peerId), op === 'stat' ? { op } : { op, id }, op === 'put' ? bytes : undefined, { signal: AbortSignal.timeout(20_000) });
    expect((await ask('put')).header).toMatchObject({ ok: false, code: 'Denied' });
    expect((await ask('get')).header).toMatchObject({ ok: false, code: 'Denied' });
    expect((await ask('stat')).header).toMatchObject({ ok: true });
  });
});
