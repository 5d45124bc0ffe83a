/**
 * Server-side encryption headers: SSE-C (x-amz-server-side-encryption-customer-algorithm | key |
 * key-MD5, and the x-amz-copy-source-... forms for a copy's source) and x-amz-server-side-encryption
 * (AES256 is accepted and reported: every object is encrypted anyway; KMS is not implemented).
 * Errors as AWS answers them.
 */
import { createHash } from 'node:crypto';
import { DomainError, Errors } from '../src/core/errors.ts';
import type { CustomerKey, ObjectInfo } from '../src/core/object-store.ts';

const CUSTOMER = 'x-amz-server-side-encryption-customer-';
const COPY_SOURCE_CUSTOMER = 'x-amz-copy-source-server-side-encryption-customer-';

/** Where SSE-C may be used: over TLS, from a loopback address, or where the operator allowed it. */
export interface KeyTransport {
  /** False or absent: plain HTTP from another host without --allow-insecure-sse-c. */
  keysAllowed?: boolean | undefined;
}

/**
 * The customer key of a request (`copySource`: the copy source's), undefined when it sends none.
 * Throws InvalidArgument for a partial set, a bad algorithm, a key that is not 256 bits or an
 * MD5 that does not match, and InvalidRequest over an insecure connection.
 */
export function customerKeyOf(headers: Record<string, string>, transport: KeyTransport, copySource = false): CustomerKey | undefined {
  const prefix = copySource ? COPY_SOURCE_CUSTOMER : CUSTOMER;
  const algorithm = headers[`${prefix}algorithm`];
  const key = headers[`${prefix}key`];
  const md5 = headers[`${prefix}key-md5`];
  if (algorithm === undefined && key === undefined && md5 === undefined) return undefined;
  if (!transport.keysAllowed) {
    throw Errors.invalidRequest(
      'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection (HTTPS, or start the server with --allow-insecure-sse-c true).',
    );
  }
  const bad = (message: string, header: string, value = ''): never => {
    throw Errors.invalidArgument(message, header, value);
  };
  if (algorithm === undefined) {
    return bad('Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm (AES256).', `${prefix}algorithm`);
  }
  if (algorithm !== 'AES256') {
    return bad('The requested encryption algorithm is not valid; the only supported value is AES256.', `${prefix}algorithm`, algorithm);
  }
  if (key === undefined || key === '') {
    return bad('Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.', `${prefix}key`);
  }
  if (md5 === undefined || md5 === '') {
    return bad('Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.', `${prefix}key-MD5`);
  }
  const bytes = Buffer.from(key, 'base64');
  if (bytes.length !== 32 || bytes.toString('base64') !== key.replace(/\s/g, '')) {
    return bad('The secret key was invalid for the specified algorithm: send a 256-bit key, base64-encoded.', `${prefix}key`, '');
  }
  if (createHash('md5').update(bytes).digest('base64') !== md5) {
    return bad('The calculated MD5 hash of the key did not match the hash that was provided.', `${prefix}key-MD5`, md5);
  }
  return { key: bytes, md5 };
}

/**
 * x-amz-server-side-encryption on a write: AES256 is what every object gets anyway; aws:kms
 * and aws:kms:dsse are not implemented; it cannot be combined with SSE-C.
 */
export function checkServerSideEncryption(headers: Record<string, string>, customerKey: CustomerKey | undefined): void {
  const v = headers['x-amz-server-side-encryption'];
  if (v === undefined) return;
  if (v === 'aws:kms' || v === 'aws:kms:dsse') {
    throw new DomainError('NotImplemented', `Server-side encryption with ${v} (KMS) is not implemented by datamesh: use AES256 (every object is encrypted) or SSE-C.`, {
      Header: 'x-amz-server-side-encryption',
    });
  }
  if (v !== 'AES256') throw Errors.invalidArgument('The encryption method specified is not supported', 'x-amz-server-side-encryption', v);
  if (customerKey) {
    throw Errors.invalidArgument(
      'Server Side Encryption with Customer provided key is incompatible with the encryption method specified',
      'x-amz-server-side-encryption',
      v,
    );
  }
}

/** The encryption headers of a response about an object: SSE-C's algorithm and key MD5, else AES256. */
export function encryptionHeaders(info: Pick<ObjectInfo, 'customerKeyed'>, key: CustomerKey | undefined): Record<string, string> {
  if (info.customerKeyed) return { [`${CUSTOMER}algorithm`]: 'AES256', ...(key ? { [`${CUSTOMER}key-MD5`]: key.md5 } : {}) };
  return { 'x-amz-server-side-encryption': 'AES256' };
}
