import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreatePeerKey, peerIdOf, PEER_KEY_FILE } from './identity.ts';

describe('peer identity', () => {
  it('creates DIR/peer.key (0600) once and loads the same key afterwards', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'datamesh-id-')), 'nested');
    const key = await loadOrCreatePeerKey(dir);
    const file = join(dir, PEER_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await loadOrCreatePeerKey(dir);
    expect(peerIdOf(again)).toBe(peerIdOf(key));
    expect(peerIdOf(key)).toMatch(/^12D3KooW/);
    chmodSync(file, 0o644);
    await loadOrCreatePeerKey(dir);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file).length).toBeGreaterThan(32);
  });

  it('refuses a damaged key file with advice instead of silently making a new identity', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'datamesh-id-'));
    writeFileSync(join(dir, PEER_KEY_FILE), 'garbage', { mode: 0o600 });
    await expect(loadOrCreatePeerKey(dir)).rejects.toThrow(/not a libp2p private key.*Restore it/);
  });
});
