/**
 * A client for the admin API: JSON requests signed with SigV4 (service 's3') by an admin key, the
 * body's SHA-256 in x-amz-content-sha256 (the API checks it). Used by the CLI; usable by scripts.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

export const ADMIN_BASE_PATH = '/_datamesh/admin/v1';

export interface AdminClientOptions {
  /** The server, e.g. http://127.0.0.1:9000 */
  endpoint: string;
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
  fetch?: typeof fetch;
}

/** A non-2xx answer from the admin API (or a body it could not read). */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export interface AdminClient {
  request<T = unknown>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    opts?: { query?: Record<string, string | undefined>; body?: unknown; signal?: AbortSignal },
  ): Promise<T>;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): Buffer =>
  typeof d === 'string'
    ? Buffer.from(d, 'utf8')
    : d instanceof ArrayBuffer
      ? Buffer.from(d)
      : Buffer.from(d.buffer, d.byteOffset, d.byteLength);

/** SHA-256 / HMAC-SHA256 over node:crypto in the shape @smithy/signature-v4 expects. */
export class NodeSha256 {
  private h: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.h = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    this.h = this.fresh();
  }
}

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

export function createAdminClient(opts: AdminClientOptions): AdminClient {
  const signer = new SignatureV4({
    service: 's3',
    region: opts.region ?? 'us-east-1',
    credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const doFetch = opts.fetch ?? fetch;
  const base = new URL(opts.endpoint);

  return {
    async request<T>(
      method: string,
      path: string,
      ro: { query?: Record<string, string | undefined>; body?: unknown; signal?: AbortSignal } = {},
    ): Promise<T> {
      const url = new URL(base.toString());
      url.pathname = base.pathname.replace(/\/+$/, '') + ADMIN_BASE_PATH + path;
      const query: Record<string, string> = {};
      for (const [k, v] of Object.entries(ro.query ?? {})) {
        if (v !== undefined) {
          query[k] = v;
          url.searchParams.set(k, v);
        }
      }
      const body = ro.body === undefined ? '' : JSON.stringify(ro.body);
      const headers: Record<string, string> = { host: url.host, 'x-amz-content-sha256': sha256Hex(body) };
      if (body) headers['content-type'] = 'application/json';
      const signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port && { port: Number(url.port) }),
        path: url.pathname,
        query,
        headers,
        body,
      });
      const sendHeaders = { ...signed.headers } as Record<string, string>;
      delete sendHeaders.host;
      const res = await doFetch(url, { method, headers: sendHeaders, body: body || undefined, signal: ro.signal });
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (!res.ok) {
        const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
        const code = e?.code ?? (/<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP${res.status}`);
        const message = e?.message ?? (/<Message>([^<]+)<\/Message>/.exec(text)?.[1] ?? `the server answered ${res.status} ${res.statusText}`);
        throw new AdminApiError(res.status, code, message);
      }
      if (text && json === undefined) {
        throw new AdminApiError(res.status, 'InvalidResponse', `${url.origin} did not answer with JSON: is it a datamesh server?`);
      }
      return json as T;
    },
  };
}
