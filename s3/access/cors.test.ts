import { describe, expect, it } from 'vitest';
import { corsHeaders, matchCors, parseCors, requestedHeaders } from './cors.ts';

const xml = `<CORSConfiguration>
  <CORSRule><AllowedOrigin>http://app.example</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod>
    <AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>300</MaxAgeSeconds></CORSRule>
  <CORSRule><AllowedOrigin>https://*.example.org</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>
</CORSConfiguration>`;

describe('CORS rules', () => {
  const rules = parseCors(xml);
  it('parses what people write', () => {
    expect(rules).toHaveLength(2);
    expect(rules[0]).toMatchObject({ allowedOrigins: ['http://app.example'], allowedMethods: ['PUT', 'GET'], allowedHeaders: ['*'], exposeHeaders: ['ETag'], maxAgeSeconds: 300 });
  });
  it('matches origin, method and requested headers, first rule first', () => {
    expect(matchCors(rules, 'http://app.example', 'PUT', ['content-type', 'x-amz-date'])).toBe(rules[0]);
    expect(matchCors(rules, 'https://a.example.org', 'GET')).toBe(rules[1]);
    expect(matchCors(rules, 'https://a.example.org', 'GET', ['x-custom'])).toBeUndefined();
    expect(matchCors(rules, 'https://a.example.org', 'PUT')).toBeUndefined();
    expect(matchCors(rules, 'http://evil.example', 'GET')).toBeUndefined();
  });
  it('answers with the rule’s headers', () => {
    const h = corsHeaders(rules[0]!, 'http://app.example', { method: 'PUT', headers: requestedHeaders('Content-Type, X-Amz-Date') });
    expect(h).toMatchObject({ 'Access-Control-Allow-Origin': 'http://app.example', 'Access-Control-Allow-Methods': 'PUT, GET', 'Access-Control-Allow-Headers': 'content-type, x-amz-date', 'Access-Control-Max-Age': '300' });
    expect(corsHeaders(rules[0]!, 'http://app.example')['Access-Control-Expose-Headers']).toBe('ETag');
  });
  it.each([
    ['no rules', '<CORSConfiguration></CORSConfiguration>', 'MalformedXML'],
    ['no origin', '<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>', 'MalformedXML'],
    ['a bad method', '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>', 'InvalidRequest'],
    ['two wildcards', '<CORSConfiguration><CORSRule><AllowedOrigin>*.*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>', 'InvalidRequest'],
  ])('refuses %s', (_w, body, code) => {
    expect(() => parseCors(body)).toThrow(expect.objectContaining({ code }));
  });
});
