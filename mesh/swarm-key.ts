/**
 * The mesh's network secret: a libp2p pre-shared key (`@libp2p/pnet` format, 32 random bytes
 * written as `/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits). Every mesh connection is
 * encrypted with it before anything else is said, so a node without it cannot complete a
 * connection. The first gateway creates DIR/swarm.key (0600); every other node is given that file
 * (`--swarm-key FILE`, or DATAMESH_SWARM_KEY holding the path or the key itself).
 */
import { generateKey } from '@libp2p/pnet';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const SWARM_KEY_FILE = 'swarm.key';
const HEADER = '/key/swarm/psk/1.0.0/';

export class SwarmKeyError extends Error {
  override name = 'SwarmKeyError';
}

/** A fresh key in the pnet text format. */
export function generateSwarmKey(): Uint8Array {
  const key = new Uint8Array(HEADER.length + '/base16/\n'.length + 1 + 64);
  generateKey(key);
  return key;
}

/** Checks the text format; returns the key bytes normalised (no trailing whitespace). */
export function parseSwarmKey(text: string, where: string): Uint8Array {
  const lines = text.trim().split(/\r?\n/);
  if (lines[0] !== HEADER || lines[1] !== '/base16/' || !/^[0-9a-fA-F]{64}$/.test(lines[2] ?? '') || lines.length !== 3)
    throw new SwarmKeyError(
      `${where} is not a mesh network secret: expected the three lines "${HEADER}", "/base16/" and 64 hex digits (copy the gateway's DATA/${SWARM_KEY_FILE})`,
    );
  return new TextEncoder().encode(lines.join('\n'));
}

/** Reads a key file, refusing one that others than its owner can read (as ssh does). */
export function readSwarmKeyFile(file: string): Uint8Array {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SwarmKeyError(`--swarm-key ${file}: cannot read it (${(err as NodeJS.ErrnoException).code}); give the path of the gateway's ${SWARM_KEY_FILE}`);
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new SwarmKeyError(`--swarm-key ${file}: the network secret is readable by other users (mode ${mode.toString(8)}); run chmod 600 ${file}`);
  return parseSwarmKey(text, `--swarm-key ${file}`);
}

/**
 * The key this node uses: `given` (a file path, or the key text itself from DATAMESH_SWARM_KEY),
 * else DIR/swarm.key; a gateway (`create`) writes a new DIR/swarm.key when there is none.
 */
export function loadSwarmKey(opts: { dataDir: string; given?: string; create: boolean }): { key: Uint8Array; file?: string; created: boolean } {
  const given = opts.given?.trim();
  if (given !== undefined && given !== '') {
    if (given.startsWith(HEADER)) return { key: parseSwarmKey(given, 'DATAMESH_SWARM_KEY'), created: false };
    return { key: readSwarmKeyFile(given), file: resolve(given), created: false };
  }
  const file = join(opts.dataDir, SWARM_KEY_FILE);
  if (existsSync(file)) return { key: readSwarmKeyFile(file), file, created: false };
  if (!opts.create)
    throw new SwarmKeyError(
      `no mesh network secret: copy the gateway's ${SWARM_KEY_FILE} (mode 0600) and pass --swarm-key FILE (or set DATAMESH_SWARM_KEY), or put it at ${file}`,
    );
  mkdirSync(opts.dataDir, { recursive: true });
  const key = generateSwarmKey();
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, new TextDecoder().decode(key) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return { key, file, created: true };
}
