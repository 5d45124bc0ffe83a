/**
 * The recovery kit of a node's master key: the 32 bytes as a 24-word BIP39 phrase (English list,
 * with its checksum word), or as N Shamir shares of which any K restore it. A share is written
 * `K-X-SET word1 ... word24`: threshold K, share number X, a 4-hex-digit id of the split (so shares
 * of two different splits are never mixed), then the share's 32 bytes as 24 BIP39 words (whose
 * checksum catches a mistyped word). parseKit takes either form back.
 */
import { randomBytes } from 'node:crypto';
import { entropyToMnemonic, mnemonicToEntropy } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { combine, split } from './shamir.ts';

export const MASTER_KEY_BYTES = 32;

export class KitError extends Error {}

const words = (text: string): string[] => text.trim().toLowerCase().split(/\s+/).filter(Boolean);

/** The master key as 24 words. */
export function keyToWords(key: Uint8Array): string {
  if (key.length !== MASTER_KEY_BYTES) throw new KitError(`a master key is ${MASTER_KEY_BYTES} bytes, got ${key.length}`);
  return entropyToMnemonic(key, wordlist);
}

function phraseToBytes(list: string[], what: string): Buffer {
  if (list.length !== 24) throw new KitError(`${what} has ${list.length} words; it must have 24`);
  const unknown = list.filter((w) => !wordlist.includes(w));
  if (unknown.length > 0) throw new KitError(`${what}: ${unknown.map((w) => `'${w}'`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not in the BIP39 English word list; check the spelling`);
  try {
    return Buffer.from(mnemonicToEntropy(list.join(' '), wordlist));
  } catch {
    throw new KitError(`${what}: the checksum does not match: a word is wrong or two are swapped; check it against the written copy`);
  }
}

/** The master key from its 24 words. */
export function wordsToKey(text: string): Buffer {
  return phraseToBytes(words(text), 'the key phrase');
}

/** Parses `K/N` (e.g. 3/5) as given to --shares. */
export function parseThreshold(text: string): { k: number; n: number } {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const k = Number(m?.[1]);
  const n = Number(m?.[2]);
  if (!m || k < 1 || n < k || n > 255 || (k === 1 && n > 1)) {
    throw new KitError(`--shares '${text}': use K/N with 2 <= K <= N <= 255, e.g. 3/5 (any 3 of 5 shares restore the key)`);
  }
  return { k, n };
}

/** The master key as n shares, any k of which restore it. */
export function keyToShares(key: Uint8Array, k: number, n: number): string[] {
  if (key.length !== MASTER_KEY_BYTES) throw new KitError(`a master key is ${MASTER_KEY_BYTES} bytes, got ${key.length}`);
  const set = randomBytes(2).toString('hex');
  return split(key, k, n).map((s) => `${k}-${s.x}-${set} ${entropyToMnemonic(s.y, wordlist)}`);
}

const SHARE_HEAD = /^(\d+)-(\d+)-([0-9a-f]{4})$/;

interface ParsedShare {
  k: number;
  x: number;
  set: string;
  y: Buffer;
}

function parseShare(line: string, n: number): ParsedShare {
  const [head = '', ...rest] = words(line);
  const m = SHARE_HEAD.exec(head);
  if (!m) throw new KitError(`share ${n} does not start with K-X-SET (e.g. 3-1-a1b2): got '${head}'`);
  const k = Number(m[1]);
  const x = Number(m[2]);
  if (k < 1 || x < 1 || x > 255) throw new KitError(`share ${n}: '${head}' has an impossible threshold or share number`);
  return { k, x, set: m[3]!, y: phraseToBytes(rest, `share ${head}`) };
}

/** The master key from k or more shares (one per line or separated by ';'). */
export function sharesToKey(texts: readonly string[]): Buffer {
  const parsed = texts.map((t, i) => parseShare(t, i + 1));
  if (parsed.length === 0) throw new KitError('no shares given');
  const { k, set } = parsed[0]!;
  const other = parsed.find((p) => p.set !== set || p.k !== k);
  if (other) throw new KitError(`shares of two different splits were given (${k}-?-${set} and ${other.k}-?-${other.set}): use shares of one export only`);
  const distinct = new Map(parsed.map((p) => [p.x, p]));
  if (distinct.size < k) throw new KitError(`${distinct.size} distinct share(s) given; this split needs ${k} of them`);
  return Buffer.from(combine([...distinct.values()].slice(0, k)));
}

/** Splits a blob of kit text into share lines (newlines or ';'). */
export function shareLines(text: string): string[] {
  return text
    .split(/[\n;]/)
    .map((l) => l.trim())
    .filter(Boolean);
}

/** Either form of the kit: 24 words, or share lines. */
export function parseKit(text: string): Buffer {
  const lines = shareLines(text);
  if (lines.length > 0 && SHARE_HEAD.test(words(lines[0]!)[0] ?? '')) return sharesToKey(lines);
  return wordsToKey(lines.join(' '));
}
