/**
 * The ONE list of scenarios known not to work, each with the reason. They still run: a known failure
 * is reported as such (not hidden, not counted as a failure); if one starts passing, the run says so
 * and the entry should be removed. A scenario not listed here that fails makes the run fail.
 */

export interface KnownFailure {
  /** Client suite name as in the table (e.g. "boto3"), or "*" for every client. */
  client: string;
  /** Scenario name within the client. */
  scenario: string;
  /** Why it fails and what would fix it. */
  reason: string;
}

// aws-cli v1's default `s3 presign` (SigV2) works since SigV2 is implemented (s3/auth/sigv2.ts).
export const KNOWN_FAILURES: KnownFailure[] = [];

export function knownFailure(client: string, scenario: string, list: readonly KnownFailure[] = KNOWN_FAILURES): KnownFailure | undefined {
  return list.find((k) => (k.client === client || k.client === '*') && k.scenario === scenario);
}
