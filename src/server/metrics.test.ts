import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runAdminCli, signedFetch, startTestServer, type TestServer } from './testing/server.ts';
import { createMetrics, instrumentNetwork, bearerMatches } from './metrics.ts';
import { metricValue } from './testing/shutdown.ts';
import type { ShardNetwork } from '../../mesh/shards.ts';

const TOKEN = 'scrape-me-please';
const scrape = async (s: { url: string }, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) => {
  const r = await fetch(`${s.url}/_datamesh/metrics`, { headers });
  return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
};

describe('GET /_datamesh/metrics on a real server (with a metrics token: per-account series)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(['--metrics-token', TOKEN]);
  });
  afterAll(() => s.stop());

  test('counts a known sequence of requests exactly', async () => {
    expect((await signedFetch(s, { method: 'PUT', path: '/metrics-bucket' })).status).toBe(200);
    const bodies = ['a'.repeat(10), 'b'.repeat(5000), 'c'.repeat(123)];
    for (const [i, body] of bodies.entries()) {
      expect((await signedFetch(s, { method: 'PUT', path: `/metrics-bucket/k${i}`, body })).status).toBe(200);
    }
    let sent = 0;
    for (const i of [0, 1]) {
      const r = await signedFetch(s, { method: 'GET', path: `/metrics-bucket/k${i}` });
      expect(r.status).toBe(200);
      sent += (await r.arrayBuffer()).byteLength;
    }
    const missing = await signedFetch(s, { method: 'GET', path: '/metrics-bucket/nope' });
    expect(missing.status).toBe(404);
    sent += (await missing.arrayBuffer()).byteLength;

    const m = await scrape(s);
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const v = (name: string, labels: Record<string, string> = {}) => metricValue(m.text, name, labels);
    expect(v('datamesh_s3_requests_total', { operation: 'CreateBucket', status: '200' })).toBe(1);
    expect(v('datamesh_s3_requests_total', { operation: 'PutObject', status: '200' })).toBe(3);
    expect(v('datamesh_s3_requests_total', { operation: 'GetObject', status: '200' })).toBe(2);
    expect(v('datamesh_s3_requests_total', { operation: 'GetObject', status: '404' })).toBe(1);
    expect(v('datamesh_s3_request_duration_seconds_count', { operation: 'PutObject' })).toBe(3);
    expect(v('datamesh_s3_request_duration_seconds_count', { operation: 'GetObject' })).toBe(3);
    expect(v('datamesh_s3_received_bytes_total', { operation: 'PutObject' })).toBe(5133);
    expect(v('datamesh_s3_sent_bytes_total', { operation: 'GetObject' })).toBe(sent);
    expect(v('datamesh_account_objects', { account: 'root' })).toBe(3);
    expect(v('datamesh_account_stored_bytes', { account: 'root' })).toBe(5133);
    expect(v('datamesh_account_buckets', { account: 'root' })).toBe(1);
    expect(v('datamesh_s3_requests_in_flight')).toBe(0);
    expect(v('datamesh_mesh_peers', { state: 'up' })).toBe(1);
    expect(v('datamesh_mesh_peers', { state: 'down' })).toBe(0);
    expect(v('datamesh_repair_queue_segments')).toBe(0);
    // process metrics and event-loop lag come with the default metrics
    expect(v('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(m.text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
  });

  test('counts quota rejections by account and degraded reads of the data store', async () => {
    const created = await runAdminCli(s, 'user', 'create', 'alice', '--max-objects', '1', '--json');
    expect(created.code).toBe(0);
    const alice = JSON.parse(created.out) as { accessKeyId: string; secretAccessKey: string };
    const credentials = { accessKeyId: alice.accessKeyId, secretAccessKey: alice.secretAccessKey };
    expect((await signedFetch(s, { method: 'PUT', path: '/alice-bucket', credentials })).status).toBe(200);
    expect((await signedFetch(s, { method: 'PUT', path: '/alice-bucket/one', body: 'x', credentials })).status).toBe(200);
    const over = await signedFetch(s, { method: 'PUT', path: '/alice-bucket/two', body: 'y', credentials });
    expect(over.status).toBe(403);
    expect(await over.text()).toContain('<Code>QuotaExceeded</Code>');

    // Lose one data shard of a coded object: the next read needs parity.
    const inspect = await runAdminCli(s, 'inspect', 'metrics-bucket', 'k1', '--json');
    const shard = (JSON.parse(inspect.out) as { segments: { shards: { path?: string }[] }[] }).segments[0]!.shards[0]!;
    rmSync(shard.path!);
    const r = await signedFetch(s, { method: 'GET', path: '/metrics-bucket/k1' });
    expect(await r.text()).toBe('b'.repeat(5000));

    const m = await scrape(s);
    expect(metricValue(m.text, 'datamesh_quota_rejections_total', { account: 'alice', code: 'QuotaExceeded' })).toBe(1);
    expect(metricValue(m.text, 'datamesh_account_objects', { account: 'alice' })).toBe(1);
    expect(metricValue(m.text, 'datamesh_degraded_reads_total')).toBe(1);
    expect(metricValue(m.text, 'datamesh_shard_verification_failures_total')).toBeGreaterThanOrEqual(1);
  });
});

describe('metrics token', () => {
  test('reading takes Authorization: Bearer TOKEN when a token is configured', async () => {
    const s = await startTestServer(['--metrics-token', 'scrape-me-please']);
    try {
      const none = await scrape(s, {});
      expect(none.status).toBe(401);
      expect(none.type).toMatch(/^text\/plain/);
      expect(none.text).toContain('Authorization: Bearer');
      expect((await scrape(s, { authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await scrape(s, { authorization: 'Basic scrape-me-please' })).status).toBe(401);
      const ok = await scrape(s, { authorization: 'Bearer scrape-me-please' });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('# TYPE datamesh_s3_requests_total counter');
      // health stays open
      expect((await fetch(`${s.url}/_datamesh/health/live`)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  test('without a token the metrics are open but name no account', async () => {
    const s = await startTestServer();
    try {
      expect((await signedFetch(s, { method: 'PUT', path: '/open-metrics' })).status).toBe(200);
      const m = await scrape(s, {});
      expect(m.status).toBe(200);
      expect(m.text).toContain('# TYPE datamesh_s3_requests_total counter');
      expect(m.text).not.toMatch(/account="/);
      expect(m.text).not.toContain('datamesh_account_');
    } finally {
      await s.stop();
    }
  });

  test('bearerMatches', () => {
    expect(bearerMatches('Bearer abc', 'abc')).toBe(true);
    expect(bearerMatches('bearer  abc ', 'abc')).toBe(true);
    expect(bearerMatches('Bearer abcd', 'abc')).toBe(false);
    expect(bearerMatches(undefined, 'abc')).toBe(false);
    expect(bearerMatches('abc', 'abc')).toBe(false);
  });
});

describe('createMetrics (unit)', () => {
  test('mesh API, data store counters and shard traffic; registries do not collide', async () => {
    const ec = { degradedReads: 2, badShards: 3, shardsRebuilt: 4 };
    const a = createMetrics({ ec: () => ec, peers: () => ({ up: 3, suspect: 1 }) });
    const b = createMetrics();
    a.repair.setQueue(7);
    a.repair.repaired(2, 4096);
    a.repair.setUnreadable(1, 5);
    a.rejected('concurrency');
    const fake: ShardNetwork = {
      self: 'me',
      place: (ids) => ids.map(() => 'me'),
      put: async (_p, id) => {
        if (id === 'bad') throw new Error('disk full');
      },
      get: async (_p, id) => (id === 'gone' ? undefined : new Uint8Array(10)),
      has: async () => true,
      delete: async () => {},
      localPath: () => undefined,
    };
    const net = instrumentNetwork(fake, a.shards);
    await net.put('me', 'good', new Uint8Array(100));
    await expect(net.put('me', 'bad', new Uint8Array(100))).rejects.toThrow('disk full');
    await net.get('me', 'x');
    await net.get('me', 'gone');
    expect(net.self).toBe('me');

    let text = (await a.render()).body;
    const v = (name: string, labels: Record<string, string> = {}) => metricValue(text, name, labels);
    expect(v('datamesh_degraded_reads_total')).toBe(2);
    expect(v('datamesh_shard_verification_failures_total')).toBe(3);
    expect(v('datamesh_shards_rebuilt_total')).toBe(4);
    expect(v('datamesh_repair_queue_segments')).toBe(7);
    expect(v('datamesh_repair_segments_total')).toBe(2);
    expect(v('datamesh_repair_bytes_total')).toBe(4096);
    expect(v('datamesh_repair_unreadable_segments', { state: 'lost' })).toBe(1);
    expect(v('datamesh_repair_unreadable_segments', { state: 'deferred' })).toBe(5);
    expect(v('datamesh_mesh_peers', { state: 'up' })).toBe(3);
    expect(v('datamesh_mesh_peers', { state: 'suspect' })).toBe(1);
    expect(v('datamesh_mesh_peers', { state: 'down' })).toBe(0);
    expect(v('datamesh_limit_rejections_total', { limit: 'concurrency' })).toBe(1);
    expect(v('datamesh_shard_writes_total', { result: 'ok' })).toBe(1);
    expect(v('datamesh_shard_writes_total', { result: 'error' })).toBe(1);
    expect(v('datamesh_shard_written_bytes_total')).toBe(100);
    expect(v('datamesh_shard_reads_total', { result: 'ok' })).toBe(1);
    expect(v('datamesh_shard_reads_total', { result: 'missing' })).toBe(1);
    expect(v('datamesh_shard_read_bytes_total')).toBe(10);

    ec.degradedReads = 5;
    a.setPeerSource(() => ({ up: 1, down: 2 }));
    text = (await a.render()).body;
    expect(v('datamesh_degraded_reads_total')).toBe(5);
    expect(v('datamesh_mesh_peers', { state: 'down' })).toBe(2);

    const other = (await b.render()).body;
    expect(metricValue(other, 'datamesh_repair_queue_segments')).toBe(0);
    expect(metricValue(other, 'datamesh_mesh_peers', { state: 'up' })).toBe(1);
    a.close();
    b.close();
  });

  test('observeRequest: unknown operations and quota codes', async () => {
    const m = createMetrics({ accountSeries: true });
    const base = { requestId: 'R', method: 'GET', bytesIn: 0, bytesOut: 0, durationMs: 1 };
    m.observeRequest({ ...base, status: 400, errorCode: 'InvalidURI' });
    m.observeRequest({ ...base, operation: 'ListBuckets', account: 'bob', status: 503, errorCode: 'SlowDown' });
    m.observeRequest({ ...base, operation: 'ListBuckets', status: 503, errorCode: 'SlowDown' });
    const text = (await m.render()).body;
    expect(metricValue(text, 'datamesh_s3_requests_total', { operation: 'Unknown', status: '400' })).toBe(1);
    expect(metricValue(text, 'datamesh_s3_requests_total', { operation: 'ListBuckets', status: '503' })).toBe(2);
    expect(metricValue(text, 'datamesh_quota_rejections_total', { account: 'bob', code: 'SlowDown' })).toBe(1);
    m.close();
  });
});
