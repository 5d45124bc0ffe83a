/**
 * The AWS SDK for JavaScript v3 as a user configures it (default checksums, default signing), in
 * path-style or virtual-hosted-style. Virtual-hosted style needs BUCKET.DOMAIN to reach the server:
 * instead of DNS, the client's HTTP agent resolves every *.DOMAIN name to 127.0.0.1, and a
 * middleware records which Host (and payload mode) each request used so a scenario can prove the
 * style, and the aws-chunked trailer path, were really exercised.
 */
import { Agent } from 'node:http';
import type { LookupFunction } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import type { RunningTarget } from '../harness/types.ts';

export type Style = 'path' | 'virtual';

/** dns.lookup stand-in: DOMAIN and *.DOMAIN -> 127.0.0.1, anything else is not found. */
export function loopbackLookup(domain: string): LookupFunction {
  return ((hostname: string, options: unknown, callback?: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as (...a: unknown[]) => void;
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all;
    const host = hostname.toLowerCase();
    if (host !== domain && !host.endsWith('.' + domain)) {
      const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
      return cb(err);
    }
    if (all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
    else cb(null, '127.0.0.1', 4);
  }) as LookupFunction;
}

export interface Sdk {
  s3: S3Client;
  /** The host name of every request sent so far. */
  hosts: string[];
  /** x-amz-content-sha256 and x-amz-trailer of every signed request sent so far ("PUT /b/k: MODE trailer"). */
  payloads: string[];
  close(): void;
}

export function makeSdk(target: RunningTarget, style: Style): Sdk {
  const hosts: string[] = [];
  const payloads: string[] = [];
  const common = { region: target.region, credentials: target.credentials };
  let s3: S3Client;
  let agent: Agent | undefined;
  if (style === 'path') {
    s3 = new S3Client({ ...common, endpoint: target.endpoint, forcePathStyle: true });
  } else {
    agent = new Agent({ keepAlive: true, lookup: loopbackLookup(target.domain) });
    s3 = new S3Client({ ...common, endpoint: `http://${target.domain}:${target.port}`, requestHandler: { httpAgent: agent } });
  }
  s3.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { hostname?: string; method?: string; path?: string; headers?: Record<string, string> };
      hosts.push(req.hostname ?? '');
      const h = req.headers ?? {};
      payloads.push(`${req.method} ${req.path}: ${h['x-amz-content-sha256'] ?? '-'} ${h['x-amz-trailer'] ?? ''}`.trim());
      return next(args);
    },
    { step: 'finalizeRequest', name: 'conformanceRecordHost', priority: 'low' },
  );
  return {
    s3,
    hosts,
    payloads,
    close() {
      s3.destroy();
      agent?.destroy();
    },
  };
}

/** Runs `fn` with a fresh client and always closes it. */
export async function withSdk<T>(target: RunningTarget, style: Style, fn: (sdk: Sdk) => Promise<T>): Promise<T> {
  const sdk = makeSdk(target, style);
  try {
    return await fn(sdk);
  } finally {
    sdk.close();
  }
}
