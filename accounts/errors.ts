/**
 * The domain errors of account management. They are DomainErrors whose codes and admin API
 * statuses are in the one error table (src/core/errors.ts); the S3 path only ever meets
 * AccessDenied, SlowDown and QuotaExceeded from accounts/.
 */
import { DomainError, Errors } from '../src/core/errors.ts';

export const AccountErrors = {
  noSuchAccount: (name: string) =>
    new DomainError('NoSuchAccount', `there is no account '${name}': list the accounts with 'datamesh admin user list'`),
  accountExists: (name: string) =>
    new DomainError('AccountAlreadyExists', `an account named '${name}' already exists: choose another name`),
  noSuchAccessKey: (name: string, accessKey: string) =>
    new DomainError(
      'NoSuchAccessKey',
      `account '${name}' has no access key ${accessKey}: list its keys with 'datamesh admin key list ${name}'`,
    ),
  accessKeyTaken: (accessKey: string, owner: string) =>
    new DomainError('AccessKeyInUse', `access key ${accessKey} already belongs to account '${owner}': choose another access key`),
  hasBuckets: (name: string, buckets: number) =>
    new DomainError(
      'AccountHasBuckets',
      `account '${name}' still owns ${buckets} bucket${buckets === 1 ? '' : 's'}: delete them (or their objects and then the buckets) first, or suspend the account instead`,
    ),
  protectedRoot: (what: string) =>
    new DomainError('RootAccountProtected', `the root account cannot be ${what}: it is how the operator administers the node`),
  lastRootKey: () =>
    new DomainError(
      'RootAccountProtected',
      "this is the root account's last access key: create another one first with 'datamesh admin key create root'",
    ),
  invalidName: (name: string) =>
    Errors.invalidArgument(
      `'${name}' is not a valid account name: use 1 to 64 characters a-z, 0-9, '.', '_' or '-', starting with a letter or digit`,
    ),
} as const;

/** Account names: 1-64 characters a-z 0-9 . _ -, starting with a letter or digit (URL-safe). */
export const isValidAccountName = (s: string): boolean => /^[a-z0-9][a-z0-9._-]{0,63}$/.test(s);
