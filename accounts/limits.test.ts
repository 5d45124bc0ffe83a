import { describe, expect, it } from 'vitest';
import {
  applyPatch,
  effectiveQuota,
  overridesFromRow,
  overridesToRow,
  parseQuotaValue,
  quotaSettingsFromConfig,
  validatePatch,
} from './limits.ts';

describe('limits', () => {
  const defaults = { maxStorage: 100, maxObjects: 10, maxRequestsPerMinute: 60 };

  it('resolves account settings over defaults; admins get no defaults', () => {
    // maxUploads: the built-in default of 1000, unless the configured defaults say otherwise
    expect(effectiveQuota({}, defaults, 'user')).toEqual({ ...defaults, maxUploads: 1000 });
    expect(effectiveQuota({}, { ...defaults, maxUploads: null }, 'user')).toEqual(defaults);
    expect(effectiveQuota({ maxStorage: 5, maxObjects: null }, defaults, 'user')).toEqual({ maxStorage: 5, maxRequestsPerMinute: 60, maxUploads: 1000 });
    expect(effectiveQuota({}, defaults, 'admin')).toEqual({});
    expect(effectiveQuota({ maxBuckets: 2 }, defaults, 'admin')).toEqual({ maxBuckets: 2 });
  });

  it('round-trips overrides through a row: NULL is default, -1 is none', () => {
    const o = { maxStorage: 5, maxObjects: null, maxBuckets: 0 };
    const row = overridesToRow(o);
    expect(row).toMatchObject({ max_storage: 5, max_objects: -1, max_buckets: 0, max_object_size: null });
    expect(overridesFromRow(row)).toEqual(o);
  });

  it('applies patches', () => {
    expect(applyPatch({ maxStorage: 5, maxObjects: 7 }, { maxStorage: null, maxObjects: 'default', maxBuckets: 3 })).toEqual({
      maxStorage: null,
      maxBuckets: 3,
    });
  });

  it('validates patches from the wire', () => {
    expect(validatePatch({ maxStorage: 1, maxObjects: null, maxBuckets: 'default' })).toEqual({
      maxStorage: 1,
      maxObjects: null,
      maxBuckets: 'default',
    });
    expect(() => validatePatch({ maxStorage: 1.5 })).toThrow(/whole number/);
    expect(() => validatePatch({ maxStorage: '5GiB' })).toThrow(/whole number/);
    expect(() => validatePatch([1])).toThrow(/JSON object/);
    expect(() => validatePatch({ foo: 1 })).toThrow(/unknown quota field 'foo'/);
  });

  it('parses operator values by field kind', () => {
    expect(parseQuotaValue('maxStorage', '5GiB')).toBe(5 * 2 ** 30);
    expect(parseQuotaValue('maxObjects', '10000')).toBe(10_000);
    expect(parseQuotaValue('maxObjects', 'none')).toBeNull();
    expect(parseQuotaValue('maxBuckets', 'default')).toBe('default');
    expect(() => parseQuotaValue('maxObjects', '5GiB')).toThrow(/whole number/);
  });

  it('reads configured defaults in any key style', () => {
    expect(
      quotaSettingsFromConfig({
        max_storage: '5GiB',
        'max-objects': 10_000,
        maxBuckets: '100',
        max_requests_per_minute: 600,
        max_monthly_transfer: '50GiB',
        max_object_size: 'none',
      }),
    ).toEqual({
      maxStorage: 5 * 2 ** 30,
      maxObjects: 10_000,
      maxBuckets: 100,
      maxRequestsPerMinute: 600,
      maxMonthlyTransfer: 50 * 2 ** 30,
      maxObjectSize: null,
    });
    expect(() => quotaSettingsFromConfig({ max_storge: 1 })).toThrow(/unknown quota setting 'max_storge'/);
    expect(() => quotaSettingsFromConfig({ max_storage: '5 gigs' })).toThrow(/quota setting 'max_storage'/);
  });
});
