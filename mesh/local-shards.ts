/**
 * The shard store on this node's disk: one file per shard, named by its id (the CID of its bytes),
 * in a one-level fan-out layout DIR/xx/<id>, xx taken from the id's last characters (its "bafkr4i" or
 * "bafkrei" prefix is the same for every shard): at most 1024 directories, so a shard write almost never
 * makes one, and 10 M shards are ~10 k files a directory. DIR/LAYOUT names the layout; a directory
 * without it is scanned once when opened and its shards moved out of the old two-level layout
 * DIR/xx/yy/<id> (one mkdir per shard, ~1 M directories). Writes are atomic (temp file, fsync,
 * rename); every read is checked against the id, and a corrupt shard is reported and never
 * returned. The mesh stores the shards peers send it with this same class.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, open, opendir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { Errors, diskFull } from '../src/core/errors.ts';
import type { Logger } from '../src/core/log.ts';
import { isShardId } from '../src/codec/cid.ts';
import { codecPool, type CodecPool } from '../src/codec/codec-pool.ts';


export interface LocalShardStoreOptions {
  /** Bytes this store may hold; a put past it fails. Unlimited when absent. */
  capacity?: number;
  /** Called with each shard found corrupt (its bytes do not hash to its id). */
  onCorrupt?: (id: string, path: string) => void;
  log?: Pick<Logger, 'warn'>;
  /** fsync each shard before it is renamed into place (default true). */
  fsync?: boolean;
  /** Where shards are hashed (default: the process-wide codec worker pool). */
  codec?: CodecPool;
}

export interface PutShardOptions {
  signal?: AbortSignal;
  /** Hash the bytes and refuse them when they do not match the id (default true). */
  verify?: boolean;
}

const TEMP_SUFFIX = '.tmp';
/** The file that names the layout of a shard directory, and what it holds. */
export const LAYOUT_FILE = 'LAYOUT';
const LAYOUT = 'datamesh shard layout 2: DIR/xx/<id>\n';
/** A fan-out directory's name: two base32 characters. */
const FAN_OUT = /^[a-z2-7]{2}$/;
const isNotFound = (e: unknown): boolean => (e as NodeJS.ErrnoException)?.code === 'ENOENT';

export class LocalShardStore {
  readonly dir: string;
  private readonly opts: LocalShardStoreOptions;
  private readonly made = new Set<string>();
  private used: Promise<number> | undefined;
  private readonly codec: CodecPool;
  /** Shards moved out of the old two-level layout when this store was opened. */
  readonly migrated: number;

  constructor(dir: string, opts: LocalShardStoreOptions = {}) {
    this.dir = dir;
    this.opts = opts;
    this.codec = opts.codec ?? codecPool();
    mkdirSync(dir, { recursive: true });
    this.migrated = this.openLayout();
  }

  /**
   * Checks the marker, or moves every shard of the old layout DIR/xx/yy/<id> to DIR/xx/<id> and
   * then writes it. Synchronous (runs once, before any put). Idempotent and crash-safe: each move
   * is a rename, a shard found at both places keeps its new copy, and the marker is written last,
   * so a cut migration is finished by the next open.
   */
  private openLayout(): number {
    const marker = join(this.dir, LAYOUT_FILE);
    if (existsSync(marker)) {
      const found = readFileSync(marker, 'utf8');
      if (found !== LAYOUT) {
        throw new Error(`${marker} names a shard layout this version does not know (${JSON.stringify(found.trim().slice(0, 80))}): use the datamesh version that wrote it`);
      }
      return 0;
    }
    let moved = 0;
    for (const top of fanOutDirs(this.dir)) {
      for (const leaf of fanOutDirs(top)) {
        let kept = 0;
        for (const entry of readdirSync(leaf, { withFileTypes: true })) {
          const old = join(leaf, entry.name);
          if (entry.isFile() && entry.name.endsWith(TEMP_SUFFIX)) {
            unlinkSync(old); // a write cut by a crash
          } else if (entry.isFile() && isShardId(entry.name)) {
            const target = this.path(entry.name);
            if (existsSync(target)) {
              unlinkSync(old); // moved by a cut migration, or written again since: keep the new one
            } else {
              mkdirSync(dirname(target), { recursive: true });
              renameSync(old, target);
              moved++;
            }
          } else {
            kept++;
            this.opts.log?.warn({ path: old }, 'unexpected entry in an old shard directory: left in place');
          }
        }
        if (kept === 0) rmdirSync(leaf);
      }
      if (this.opts.fsync !== false) fsyncPath(top);
    }
    const temp = `${marker}${TEMP_SUFFIX}`;
    writeFileSync(temp, LAYOUT);
    if (this.opts.fsync !== false) fsyncPath(temp);
    renameSync(temp, marker);
    if (this.opts.fsync !== false) fsyncPath(this.dir);
    return moved;
  }

  /** The file that holds (or would hold) shard `id`. */
  path(id: string): string {
    return join(this.leaf(id), id);
  }

  private leaf(id: string): string {
    if (!isShardId(id)) throw Errors.invalidArgument(`'${id.slice(0, 80)}' is not a shard id (a CIDv1 raw BLAKE3 or sha2-256 in base32, "bafkr4i..." or "bafkrei...")`);
    // The last character carries only 3 bits of the digest: fan out on the ones before it.
    return join(this.dir, id.slice(-3, -1));
  }

  /** Stores a shard atomically: temp file, fsync, rename. Overwrites a shard with the same id. */
  async put(id: string, bytes: Uint8Array, opts: PutShardOptions = {}): Promise<void> {
    const dir = this.leaf(id);
    opts.signal?.throwIfAborted();
    if (opts.verify !== false && (await this.codec.hash([bytes], { like: [id] })).ids[0] !== id) {
      throw Errors.badDigest(`shard bytes do not hash to ${id}: refusing to store them (the sender must send the shard's exact bytes)`);
    }
    if (this.opts.capacity !== undefined) await this.reserve(id, bytes.length);
    if (!this.made.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.made.add(dir);
    }
    const final = join(dir, id);
    const temp = `${final}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
    let done = false;
    try {
      const handle = await open(temp, 'wx', 0o600).catch(async (e: unknown) => {
        if (!isNotFound(e)) throw e;
        await mkdir(dir, { recursive: true }); // the directory went away since it was made
        return open(temp, 'wx', 0o600);
      });
      try {
        await handle.writeFile(bytes, { signal: opts.signal });
        if (this.opts.fsync !== false) await handle.datasync();
      } finally {
        await handle.close();
      }
      opts.signal?.throwIfAborted();
      await rename(temp, final);
      done = true;
    } catch (e) {
      // a full disk: the temp file goes (below) and the caller gets a clean, retryable error
      throw diskFull(e, `the disk holding the shard store ${this.dir}`) ?? e;
    } finally {
      if (!done) {
        await unlink(temp).catch(() => undefined);
        if (this.used) this.used = this.used.then((u) => u - bytes.length);
      }
    }
  }

  private async reserve(id: string, size: number): Promise<void> {
    this.used ??= this.stats().then((s) => s.bytes);
    const used = await this.used;
    const capacity = this.opts.capacity!;
    if (used + size > capacity) {
      throw Errors.serviceUnavailable(
        `the shard store at ${this.dir} is full (${used} of ${capacity} bytes used; shard ${id} needs ${size}): free space or raise its capacity`,
      );
    }
    this.used = this.used.then((u) => u + size);
  }

  /**
   * The shard's bytes, checked against its id (unless `verify` is false: the caller authenticates
   * them); undefined when absent, unreadable or corrupt. With
   * `into` (exactly the size the shard should have) the file is read into it, in place: a file of
   * another size is corrupt.
   */
  async get(id: string, opts: { signal?: AbortSignal; into?: Uint8Array; verify?: boolean } = {}): Promise<Uint8Array | undefined> {
    if (!isShardId(id)) return undefined;
    const file = this.path(id);
    let read: Uint8Array;
    try {
      read = opts.into ? await readInto(file, opts.into, opts.signal) : await readFile(file, { signal: opts.signal });
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      if (!isNotFound(e)) this.opts.log?.warn({ shard: id, path: file, err: e }, 'shard unreadable: treated as missing');
      return undefined;
    }
    if (opts.verify === false) return read; // the caller authenticates them (ShardGetOptions.verify)
    // the bytes travel to a codec worker and back (transferred, or shared when they live in a
    // SharedArrayBuffer: never copied)
    const { ids, buffers } = await this.codec.hash([read], { transfer: true, like: [id] });
    const bytes = buffers[0]!;
    if (ids[0] !== id) {
      this.opts.log?.warn({ shard: id, path: file }, 'corrupt shard: its bytes do not hash to its id; routed around');
      this.opts.onCorrupt?.(id, file);
      return undefined;
    }
    return bytes;
  }

  /** True when a file for the shard exists (not verified: use get for that). */
  async has(id: string): Promise<boolean> {
    if (!isShardId(id)) return false;
    try {
      await stat(this.path(id));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /** Removes the shard; absent is fine. */
  async delete(id: string): Promise<void> {
    if (!isShardId(id)) return;
    const file = this.path(id);
    let size = 0;
    if (this.used) size = await stat(file).then((s) => s.size, () => 0);
    try {
      await unlink(file);
      if (this.used && size > 0) this.used = this.used.then((u) => u - size);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** Every shard id on disk (temp files of writes in progress are skipped). */
  async *list(): AsyncIterable<string> {
    for await (const { name, temp } of this.walk()) if (!temp) yield name;
  }

  /** The shard files and temp files in DIR/xx/; anything else (LAYOUT, strays) is skipped. */
  private async *walk(): AsyncIterable<{ name: string; path: string; temp: boolean }> {
    for (const top of fanOutDirs(this.dir)) {
      const d = await opendir(top).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
      if (!d) continue;
      for await (const entry of d) {
        if (!entry.isFile()) continue;
        const temp = entry.name.endsWith(TEMP_SUFFIX);
        if (temp || isShardId(entry.name)) yield { name: entry.name, path: join(top, entry.name), temp };
      }
    }
  }

  /** Number of shards and their total size. */
  async stats(): Promise<{ count: number; bytes: number }> {
    let count = 0;
    let bytes = 0;
    for await (const { path, temp } of this.walk()) {
      if (temp) continue;
      const s = await stat(path).catch(() => undefined);
      if (!s) continue;
      count++;
      bytes += s.size;
    }
    return { count, bytes };
  }

  /** Removes temp files last modified before `before` (ms since epoch): writes cut by a crash. */
  async sweepTemp(before: number): Promise<number> {
    let removed = 0;
    for await (const { path, temp } of this.walk()) {
      if (!temp) continue;
      const s = await stat(path).catch(() => undefined);
      if (s && s.mtimeMs < before) {
        await unlink(path).catch(() => undefined);
        removed++;
      }
    }
    return removed;
  }
}

/** Reads a whole file into `into`; a file of another size is reported as such (treated as corrupt). */
async function readInto(file: string, into: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
  signal?.throwIfAborted();
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size !== into.byteLength) return new Uint8Array(0); // the wrong size: fails the id check
    let at = 0;
    while (at < size) {
      const { bytesRead } = await handle.read(into, at, size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return at === size ? into : new Uint8Array(0);
  } finally {
    await handle.close();
  }
}

/** The fan-out directories (two base32 characters) in `dir`; none when `dir` is gone. */
function fanOutDirs(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
  return entries.filter((e) => e.isDirectory() && FAN_OUT.test(e.name)).map((e) => join(dir, e.name));
}

/** fsync a file or directory (a directory's fsync makes the renames in it durable). */
function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
