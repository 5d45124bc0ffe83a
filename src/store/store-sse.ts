/**
 * SSE-C in the store: which key a request must carry for an object or an upload, checked against
 * the salted HMAC the catalog keeps (src/core/customer-key.ts), with AWS's errors.
 */
import type { CustomerKey } from '../core/object-store.ts';
import { Errors } from '../core/errors.ts';
import { customerKeyCheck, matchesCustomerKey } from '../core/customer-key.ts';

/** The catalog fields of an object or upload made with a customer key. */
export const keyCheckFields = (key: CustomerKey | undefined): { customerKeyCheck?: string } =>
  key ? { customerKeyCheck: customerKeyCheck(key.key) } : {};

/** A read (GET, HEAD, a copy source) of a stored object: its key, no key, or AWS's error. */
export function checkObjectKey(stored: { customerKeyCheck?: string }, key: CustomerKey | undefined, source = false): void {
  if (stored.customerKeyCheck === undefined) {
    if (key) throw Errors.invalidRequest('The encryption parameters are not applicable to this object.');
    return;
  }
  if (!key) {
    throw Errors.invalidRequest(
      source
        ? 'The source object of the COPY operation is encrypted using Server Side Encryption with Customer provided keys (SSE-C): send the x-amz-copy-source-server-side-encryption-customer-* headers.'
        : 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.',
    );
  }
  if (!matchesCustomerKey(stored.customerKeyCheck, key.key)) {
    throw Errors.accessDenied('Access Denied: the SSE-C key given is not the one the object was stored with.');
  }
}

/** A part of a multipart upload: the key CreateMultipartUpload was given, or none if it had none. */
export function checkUploadKey(upload: { customerKeyCheck?: string }, key: CustomerKey | undefined): void {
  if (upload.customerKeyCheck === undefined) {
    if (key) {
      throw Errors.invalidRequest(
        'The multipart upload initiate requested no encryption; parts cannot be sent with SSE-C headers. Create the upload with the SSE-C headers.',
      );
    }
    return;
  }
  if (!key) {
    throw Errors.invalidRequest(
      'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.',
    );
  }
  if (!matchesCustomerKey(upload.customerKeyCheck, key.key)) {
    throw Errors.invalidRequest('The provided encryption parameters did not match the ones used originally.');
  }
}

/** True when a copy keeps the source's encryption (no key on either side, or the same key). */
export function sameEncryption(source: { customerKeyCheck?: string }, key: CustomerKey | undefined): boolean {
  if (source.customerKeyCheck === undefined || key === undefined) return source.customerKeyCheck === undefined && key === undefined;
  return matchesCustomerKey(source.customerKeyCheck, key.key);
}
