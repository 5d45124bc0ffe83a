/**
 * Quota fields, their settings and how an account's effective limits are resolved.
 *
 * Three layers, per field: the account's own setting (a number, or `none` which lifts the limit),
 * else the configured default for new user accounts. Admin accounts get no defaults (the operator
 * is never locked out by the free tier), but limits set on them explicitly still apply.
 */
import { Errors } from '../src/core/errors.ts';
import type { Limits } from '../src/core/quota.ts';
import { parseCount, parseSize, SizeError } from '../src/core/sizes.ts';

export const QUOTA_FIELDS = [
  'maxStorage',
  'maxObjects',
  'maxBuckets',
  'maxObjectSize',
  'maxRequestsPerMinute',
  'maxMonthlyTransfer',
  'maxUploads',
] as const;
export type QuotaField = (typeof QUOTA_FIELDS)[number];

export const QUOTA_COLUMNS: Record<QuotaField, string> = {
  maxStorage: 'max_storage',
  maxObjects: 'max_objects',
  maxBuckets: 'max_buckets',
  maxObjectSize: 'max_object_size',
  maxRequestsPerMinute: 'max_requests_per_minute',
  maxMonthlyTransfer: 'max_monthly_transfer',
  maxUploads: 'max_uploads',
};

/** The CLI flag of each field, e.g. maxStorage -> 'max-storage'. */
export const QUOTA_FLAGS: Record<QuotaField, string> = {
  maxStorage: 'max-storage',
  maxObjects: 'max-objects',
  maxBuckets: 'max-buckets',
  maxObjectSize: 'max-object-size',
  maxRequestsPerMinute: 'max-requests-per-minute',
  maxMonthlyTransfer: 'max-monthly-transfer',
  maxUploads: 'max-uploads',
};

/** Fields measured in bytes (the others are counts). */
export const SIZE_FIELDS: ReadonlySet<QuotaField> = new Set(['maxStorage', 'maxObjectSize', 'maxMonthlyTransfer']);

/**
 * Defaults that hold unless the configuration says otherwise: open multipart uploads cost the
 * catalog a row each and were unlimited (issue 12); 1000 is what ListMultipartUploads returns in
 * one page. `max_uploads = "none"` in [quota.defaults] lifts it.
 */
export const BUILT_IN_DEFAULTS: QuotaSettings = { maxUploads: 1000 };

/** Configured defaults for new user accounts: a limit per field; null or absent is no limit. */
export type QuotaSettings = Partial<Record<QuotaField, number | null>>;

/** An account's own settings: absent = use the default, null = no limit (`none`), a number = the limit. */
export type QuotaOverrides = Partial<Record<QuotaField, number | null>>;

/** A change to an account's settings: a number sets, null lifts (`none`), 'default' goes back to the default. */
export type QuotaPatch = Partial<Record<QuotaField, number | null | 'default'>>;

/** The limits in force; undefined is no limit. */
export type EffectiveQuota = Partial<Record<QuotaField, number>>;

export type QuotaSource = 'account' | 'lifted' | 'default';
/** What `user info` shows per field: the limit in force (null = none) and where it comes from. */
export type QuotaView = Record<QuotaField, { limit: number | null; source: QuotaSource }>;

export type Role = 'admin' | 'user';

export function effectiveQuota(overrides: QuotaOverrides, defaults: QuotaSettings, role: Role): EffectiveQuota {
  const out: EffectiveQuota = {};
  for (const f of QUOTA_FIELDS) {
    const v = f in overrides ? overrides[f] : role === 'admin' ? undefined : f in defaults ? defaults[f] : BUILT_IN_DEFAULTS[f];
    if (v !== undefined && v !== null) out[f] = v;
  }
  return out;
}

export function quotaView(overrides: QuotaOverrides, defaults: QuotaSettings, role: Role): QuotaView {
  const eff = effectiveQuota(overrides, defaults, role);
  const view = {} as QuotaView;
  for (const f of QUOTA_FIELDS) {
    const source: QuotaSource = !(f in overrides) ? 'default' : overrides[f] === null ? 'lifted' : 'account';
    view[f] = { limit: eff[f] ?? null, source };
  }
  return view;
}

/** The store's share of the limits (src/core/quota.ts). */
export const storeLimits = (q: EffectiveQuota): Limits => ({
  ...(q.maxStorage !== undefined && { maxStorage: q.maxStorage }),
  ...(q.maxObjects !== undefined && { maxObjects: q.maxObjects }),
  ...(q.maxBuckets !== undefined && { maxBuckets: q.maxBuckets }),
  ...(q.maxObjectSize !== undefined && { maxObjectSize: q.maxObjectSize }),
  ...(q.maxUploads !== undefined && { maxUploads: q.maxUploads }),
});

/** Applies a patch to stored overrides (pure). */
export function applyPatch(overrides: QuotaOverrides, patch: QuotaPatch): QuotaOverrides {
  const out: QuotaOverrides = { ...overrides };
  for (const f of QUOTA_FIELDS) {
    if (!(f in patch)) continue;
    const v = patch[f];
    if (v === 'default') delete out[f];
    else if (v !== undefined) out[f] = v;
  }
  return out;
}

/** Row <-> overrides: NULL = default, -1 = none. */
export function overridesFromRow(row: Record<string, unknown> | undefined): QuotaOverrides {
  const out: QuotaOverrides = {};
  if (!row) return out;
  for (const f of QUOTA_FIELDS) {
    const v = row[QUOTA_COLUMNS[f]];
    if (v === null || v === undefined) continue;
    out[f] = Number(v) < 0 ? null : Number(v);
  }
  return out;
}

export function overridesToRow(o: QuotaOverrides): Record<string, number | null> {
  const row: Record<string, number | null> = {};
  for (const f of QUOTA_FIELDS) {
    const v = o[f];
    row[QUOTA_COLUMNS[f]] = !(f in o) ? null : v === null || v === undefined ? -1 : v;
  }
  return row;
}

/**
 * Checks a patch that came over the wire (JSON): known fields only, each a non-negative safe integer,
 * null or 'default'. Throws InvalidArgument naming the field.
 */
export function validatePatch(input: unknown): QuotaPatch {
  if (input === undefined) return {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw Errors.invalidArgument('the quota must be a JSON object such as {"maxStorage": 5368709120, "maxObjects": null}');
  }
  const patch: QuotaPatch = {};
  for (const [k, v] of Object.entries(input)) {
    if (!(QUOTA_FIELDS as readonly string[]).includes(k)) {
      throw Errors.invalidArgument(`unknown quota field '${k}': the fields are ${QUOTA_FIELDS.join(', ')}`);
    }
    const f = k as QuotaField;
    if (v === null || v === 'default') patch[f] = v;
    else if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) patch[f] = v;
    else {
      throw Errors.invalidArgument(
        `quota field '${k}' must be a whole number >= 0, null (no limit) or "default"; got ${JSON.stringify(v)}`,
      );
    }
  }
  return patch;
}

/** Parses one quota value as an operator writes it: a size or count, `none`, or `default`. */
export function parseQuotaValue(field: QuotaField, text: string): number | null | 'default' {
  const t = text.trim().toLowerCase();
  if (t === 'none' || t === 'unlimited') return null;
  if (t === 'default') return 'default';
  return SIZE_FIELDS.has(field) ? parseSize(text) : parseCount(text);
}

/**
 * Reads configured defaults (a TOML table, env values...). Keys may be camelCase, snake_case or
 * kebab-case; values numbers or strings such as "5GiB", "10000", "none". Throws naming the key.
 */
export function quotaSettingsFromConfig(input: Record<string, unknown>): QuotaSettings {
  const out: QuotaSettings = {};
  for (const [key, value] of Object.entries(input)) {
    const camel = key.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!(QUOTA_FIELDS as readonly string[]).includes(camel)) {
      throw new Error(`unknown quota setting '${key}': use ${Object.values(QUOTA_COLUMNS).join(', ')}`);
    }
    const f = camel as QuotaField;
    try {
      if (value === null) out[f] = null;
      else if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) out[f] = value;
      else if (typeof value === 'string') {
        const v = parseQuotaValue(f, value);
        out[f] = v === 'default' ? null : v;
      } else throw new SizeError(`${JSON.stringify(value)} is not a size or count`);
    } catch (e) {
      throw new Error(`quota setting '${key}': ${(e as Error).message}`);
    }
  }
  return out;
}
