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

export const KNOWN_FAILURES: KnownFailure[] = [
  {
    client: 'aws-cli v1',
    scenario: 's3 presign, fetched with curl',
    reason:
      'aws-cli v1 `s3 presign` signs with SigV2 by default (?AWSAccessKeyId=…&Signature=…&Expires=…); SigV2 is not implemented, ' +
      'the server answers 400 InvalidRequest "Please use AWS4-HMAC-SHA256". Users: `aws configure set default.s3.signature_version s3v4`.',
  },
];

export function knownFailure(client: string, scenario: string, list: readonly KnownFailure[] = KNOWN_FAILURES): KnownFailure | undefined {
  return list.find((k) => (k.client === client || k.client === '*') && k.scenario === scenario);
}
