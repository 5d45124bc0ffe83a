/**
 * The condition keys of one request, as bucket policies name them (lower-cased here; the policy
 * side lower-cases its keys too). Existing object tags are asked for only when a policy needs them.
 */
import type { ConditionContext } from './conditions.ts';

export interface RequestFacts {
  sourceIp?: string;
  secure: boolean;
  now: Date;
  /** The signed-in account's name; undefined for anonymous requests. */
  account?: string;
  headers: Record<string, string>;
  query: URLSearchParams;
  /** 'AWS4-HMAC-SHA256' (SigV4) or 'AWS' (SigV2); undefined when unsigned. */
  signatureVersion?: string;
  /** REST-HEADER, REST-QUERY-STRING or POST. */
  authType?: string;
  /** The tags of the object the request acts on, when it exists. */
  existingTags?: () => Record<string, string> | undefined;
}

export function conditionContext(f: RequestFacts): ConditionContext {
  const ctx = new Map<string, string[]>();
  const set = (k: string, v: string | undefined | null) => {
    if (v !== undefined && v !== null) ctx.set(k, [v]);
  };
  set('aws:sourceip', f.sourceIp);
  set('aws:securetransport', String(f.secure));
  set('aws:currenttime', f.now.toISOString());
  set('aws:epochtime', String(Math.floor(f.now.getTime() / 1000)));
  set('aws:username', f.account);
  set('aws:principaltype', f.account === undefined ? 'Anonymous' : 'Account');
  set('s3:prefix', f.query.get('prefix'));
  set('s3:delimiter', f.query.get('delimiter'));
  set('s3:max-keys', f.query.get('max-keys'));
  set('s3:versionid', f.query.get('versionId'));
  set('s3:signatureversion', f.signatureVersion);
  set('s3:authtype', f.authType);
  for (const h of ['x-amz-acl', 'x-amz-server-side-encryption', 'x-amz-content-sha256', 'x-amz-copy-source', 'x-amz-metadata-directive', 'x-amz-storage-class']) {
    set(`s3:${h}`, f.headers[h]);
  }
  const tagging = f.headers['x-amz-tagging'];
  if (tagging !== undefined) {
    const tags = new URLSearchParams(tagging);
    ctx.set('s3:requestobjecttagkeys', [...tags.keys()]);
    for (const [k, v] of tags) ctx.set(`s3:requestobjecttag/${k.toLowerCase()}`, [v]);
  }
  if (f.existingTags) {
    const load = f.existingTags;
    let loaded = false;
    // existing tags cost a catalog read: resolve them on first use only
    return new Proxy(ctx, {
      get(target, prop, receiver) {
        if (prop === 'get') {
          return (key: string) => {
            if (!loaded && key.startsWith('s3:existingobjecttag/')) {
              loaded = true;
              for (const [k, v] of Object.entries(load() ?? {})) target.set(`s3:existingobjecttag/${k.toLowerCase()}`, [v]);
            }
            return target.get(key);
          };
        }
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }
  return ctx;
}
