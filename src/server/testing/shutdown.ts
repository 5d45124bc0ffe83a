/**
 * Test helpers for life-cycle and limit tests: raw HTTP requests whose bodies the test streams by
 * hand (to hold them in flight), deterministic pseudo-random data, and a Prometheus text reader.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { ChildProcess } from 'node:child_process';
import { signRequest } from './server.ts';

export const MiB = 1024 * 1024;

/** Deterministic pseudo-random bytes: chunk `i` of stream `seed` (AES-256-CTR keystream, fast). */
export function dataChunk(seed: string, i: number, size = MiB): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(i, 0);
  return createCipheriv('aes-256-ctr', key, iv).update(Buffer.alloc(size));
}

export interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface OpenUpload {
  req: ClientRequest;
  /** Resolves once the server has parsed the request (100 Continue). */
  continued: Promise<void>;
  /** Writes bytes, waiting for the socket to drain. */
  write(chunk: Buffer): Promise<void>;
  response: Promise<RawResponse>;
  md5: ReturnType<typeof createHash>;
}

function readAll(res: IncomingMessage): Promise<RawResponse> {
  return new Promise((ok, fail) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (body += d));
    res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
    res.on('error', fail);
  });
}

/** Starts a signed PUT (UNSIGNED-PAYLOAD, Expect: 100-continue) of `size` bytes; the caller writes the body. */
export async function openUpload(server: { url: string }, path: string, size: number): Promise<OpenUpload> {
  const signed = await signRequest(server, {
    method: 'PUT',
    path,
    payload: 'UNSIGNED-PAYLOAD',
    headers: { 'content-length': String(size), expect: '100-continue' },
  });
  const req = request(signed.url, { method: 'PUT', headers: signed.headers });
  const md5 = createHash('md5');
  const continued = new Promise<void>((ok, fail) => {
    req.once('continue', () => ok());
    req.once('error', fail);
  });
  const response = new Promise<RawResponse>((ok, fail) => {
    req.once('response', (res) => ok(readAll(res)));
    req.once('error', fail);
  });
  const failed = new Promise<never>((_, fail) => req.once('error', fail));
  for (const p of [response, continued, failed]) p.catch(() => {});
  req.flushHeaders();
  return {
    req,
    continued,
    md5,
    write: (chunk) => {
      md5.update(chunk);
      const written = new Promise<void>((ok, fail) => req.write(chunk, (err) => (err ? fail(err) : ok())));
      return Promise.race([written, failed]); // a cut connection fails the write instead of hanging it
    },
    response,
  };
}

/** A signed GET whose response the caller reads. */
export async function openDownload(server: { url: string }, path: string): Promise<IncomingMessage> {
  const signed = await signRequest(server, { method: 'GET', path });
  return new Promise((ok, fail) => {
    const req = request(signed.url, { method: 'GET', headers: signed.headers }, ok);
    req.on('error', fail);
    req.end();
  });
}

/** Resolves once the process's stdout or stderr (so far or later) matches `re`. */
export function waitForOutput(proc: ChildProcess, output: () => string, re: RegExp): Promise<void> {
  return new Promise((ok, fail) => {
    const check = () => {
      if (!re.test(output())) return false;
      proc.stdout?.off('data', onData);
      proc.stderr?.off('data', onData);
      proc.off('exit', onExit);
      ok();
      return true;
    };
    // Registered after the owner's listeners, so output() already holds the new chunk.
    const onData = () => void check();
    const onExit = () => fail(new Error(`the process exited before printing ${re}:\n${output()}`));
    if (check()) return;
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', onExit);
  });
}

/** One sample of a Prometheus text exposition: the value of `name` with exactly these labels. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: [string, string][] = [];
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) got.push([l[1]!, l[2]!]);
    if (JSON.stringify(got.sort()) === want) return Number(m[3]);
  }
  return undefined;
}
