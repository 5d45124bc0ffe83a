/**
 * The shapes shared by the conformance runner and the client suites: a target (a running datamesh
 * to test), a client suite (one real S3 client and its scenarios) and a scenario's result.
 */

/** A started datamesh deployment that clients can talk to. */
export interface RunningTarget {
  /** e.g. "single-node" (a cluster target is added in targets.ts). */
  name: string;
  /** Path-style endpoint, http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  /** Base domain for virtual-hosted-style requests (BUCKET.domain:PORT), resolved to 127.0.0.1 by the clients that use it. */
  domain: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Where the server's JSON log lines go (kept after the run for diagnosis). */
  logFile: string;
  /** Peak resident memory of the server process(es) in bytes, when known. */
  peakRss(): number | undefined;
  stop(): Promise<void>;
}

/** What a scenario gets: the target, a private temp dir, unique names, an abort signal. */
export interface ScenarioContext {
  target: RunningTarget;
  /** A fresh directory under os.tmpdir(), removed after the scenario. */
  dir: string;
  /** Aborted when the scenario times out or the run is interrupted. */
  signal: AbortSignal;
  /** A bucket name no other scenario uses (lowercase, DNS-safe, ≤ 63 chars). */
  bucket(label?: string): string;
  /** Notes shown with the result (e.g. a measured throughput). */
  note(text: string): void;
  /** Anything the client suite prepared once (binary paths, config). */
  setup: unknown;
}

export interface Scenario {
  /** Short, stable id within the client (used by known-failures.ts), e.g. "s3 cp 100 MiB". */
  name: string;
  /** The operation row of the README table, one of OPERATIONS. */
  op: Operation;
  /** Other rows this scenario also exercises (e.g. an `s3 cp` of 100 MiB: put / get, multipart). */
  also?: Operation[];
  /** Default 120 s. */
  timeoutMs?: number;
  run(ctx: ScenarioContext): Promise<void>;
}

export interface ClientInfo {
  version: string;
  /** Whatever the scenarios need once (binary path, config template...). */
  setup?: unknown;
}

export interface ClientSuite {
  /** Column name in the table, e.g. "aws-cli v2". */
  name: string;
  /** Finds the client; returns undefined plus how to install it when it is missing. */
  detect(): Promise<ClientInfo | { missing: string }>;
  scenarios: Scenario[];
}

/** The README table's rows, in order. */
export const OPERATIONS = [
  'buckets',
  'put / get',
  'head',
  'multipart',
  'large upload',
  'list',
  'delete',
  'copy',
  'tagging',
  'sync',
  'checksums',
  'presigned URL',
  'presigned POST',
  'virtual-hosted style',
  'versioning',
  'object lock',
  'lifecycle',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export type Status = 'pass' | 'fail' | 'known-failure' | 'skipped';

export interface ScenarioResult {
  target: string;
  client: string;
  op: Operation;
  also?: Operation[];
  scenario: string;
  status: Status;
  durationMs: number;
  /** Why it failed (fail, known-failure) or why it was skipped. */
  error?: string;
  /** known-failure: the reason recorded in known-failures.ts. */
  reason?: string;
  /** A known failure that passed: remove it from known-failures.ts. */
  unexpectedPass?: boolean;
  notes?: string[];
}

export interface ConformanceReport {
  passed: number;
  failed: number;
  skipped: number;
  knownFailures: number;
  date: string;
  durationMs: number;
  targets: string[];
  clients: Record<string, string>;
  server?: { peakRssBytes?: number };
  results: ScenarioResult[];
}
