import { describe, expect, it } from 'vitest';
import { evaluatePolicy, isPublicPolicy, parsePolicy } from './policy.ts';
import { ipInCidr } from './conditions.ts';

const doc = (statement: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ Version: '2012-10-17', Statement: statement, ...extra });
const allowAll = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };

describe('bucket policy parsing', () => {
  it.each([
    ['not JSON', '{', /valid JSON/],
    ['no Statement', JSON.stringify({ Version: '2012-10-17' }), /Statement/],
    ['a bad version', doc(allowAll, { Version: '2020-01-01' }), /version/],
    ['a bad effect', doc({ ...allowAll, Effect: 'Maybe' }), /effect/],
    ['no principal', doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }), /Principal/],
    ['a foreign action', doc({ ...allowAll, Action: 'ec2:RunInstances' }), /invalid action/],
    ['another bucket', doc({ ...allowAll, Resource: 'arn:aws:s3:::other/*' }), /invalid resource/],
    ['an unknown operator', doc({ ...allowAll, Condition: { StringSorta: { 'aws:username': 'x' } } }), /Condition type/],
    ['a bad CIDR', doc({ ...allowAll, Condition: { IpAddress: { 'aws:SourceIp': '300.1.1.1/8' } } }), /IP address/],
    ['an unknown field', doc({ ...allowAll, Effekt: 'Allow' }), /Unknown field/],
    ['an empty statement list', doc([]), /empty/],
  ])('refuses %s with MalformedPolicy', (_what, text, reason) => {
    let err: unknown;
    try {
      parsePolicy(text, 'b');
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe('MalformedPolicy');
    expect((err as Error).message).toMatch(reason);
  });

  it('accepts the shapes people write: single statement objects, wildcards, NotAction, NotPrincipal', () => {
    const p = parsePolicy(doc([
      { Sid: 'a', Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::bob:root', 'carol'] }, Action: 's3:Get*', Resource: 'arn:aws:s3:::b/public/*' },
      { Effect: 'Deny', NotPrincipal: { AWS: 'alice' }, NotAction: 's3:Get*', Resource: 'arn:aws:s3:::b*' },
    ]), 'b');
    const ask = (name: string, action: string, resource: string) =>
      evaluatePolicy(p, { principal: { kind: 'account', name, canonicalId: `id-${name}` }, action, resource, conditions: new Map() });
    expect(ask('bob', 's3:GetObject', 'arn:aws:s3:::b/public/x')).toBe('allow');
    expect(ask('carol', 's3:getobjecttagging', 'arn:aws:s3:::b/public/x')).toBe('allow');
    expect(ask('bob', 's3:GetObject', 'arn:aws:s3:::b/private/x')).toBe('none');
    expect(ask('bob', 's3:PutObject', 'arn:aws:s3:::b/public/x')).toBe('deny');
    expect(ask('alice', 's3:PutObject', 'arn:aws:s3:::b/public/x')).toBe('none');
  });

  it('knows a public policy from one narrowed to addresses or accounts', () => {
    expect(isPublicPolicy(parsePolicy(doc(allowAll), 'b'))).toBe(true);
    expect(isPublicPolicy(parsePolicy(doc({ ...allowAll, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }), 'b'))).toBe(false);
    expect(isPublicPolicy(parsePolicy(doc({ ...allowAll, Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } }), 'b'))).toBe(true);
    expect(isPublicPolicy(parsePolicy(doc({ ...allowAll, Principal: { AWS: 'bob' } }), 'b'))).toBe(false);
  });

  it('matches addresses in IPv4 and IPv6 ranges', () => {
    expect(ipInCidr('192.168.1.7', '192.168.1.0/24')).toBe(true);
    expect(ipInCidr('192.168.2.7', '192.168.1.0/24')).toBe(false);
    expect(ipInCidr('2001:db8::1', '2001:db8::/32')).toBe(true);
    expect(ipInCidr('2001:db9::1', '2001:db8::/32')).toBe(false);
    expect(ipInCidr('::ffff:10.0.0.1', '10.0.0.0/8')).toBe(true);
    expect(ipInCidr('10.0.0.1', '2001:db8::/32')).toBe(false);
  });
});
