/**
 * A '+' in a query string is a space in form encoding, which is how the router reads the query
 * (URLSearchParams). Some signers sign a literal '+' (%2B) and send it unencoded; SigV4 accepts
 * that reading too (auth/canonical.ts canonicalQueries) and says so (AuthResult.literalPlus). The
 * request is then routed again with '+' read as '+', so that authentication and routing read the
 * same bytes: a signed prefix `a+b` never lists `a b`.
 */
import { withHoistedHeaders } from './hoisted.ts';
import type { RouteInput } from './router.ts';

/** The route input of a request whose query was signed with '+' as itself. */
export function literalPlusInput(input: RouteInput, rawQuery: string, rawHeaders: Record<string, string>): RouteInput {
  const query = new URLSearchParams(rawQuery.replaceAll('+', '%2B'));
  return { ...input, query, headers: withHoistedHeaders(rawHeaders, query) };
}
