// Drift guards: each inspects a synthesised template and lists what violates one security property.
// The stack tests assert they return [] on the real stacks; the drift tests assert each one catches a
// deliberate regression, so a guard that silently stopped matching would fail too.
import type { Template } from 'aws-cdk-lib/assertions';

type Json = Record<string, any>;
const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** X-Ray has no resource-level permissions: these two actions are the only ones allowed on "*". */
export const STAR_RESOURCE_ALLOWED = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);

/** Buckets without all four public-access blocks, or with a policy statement allowing Principal "*". */
export function publicBuckets(template: Template): string[] {
  const out: string[] = [];
  const buckets = template.findResources('AWS::S3::Bucket') as Record<string, Json>;
  for (const [id, b] of Object.entries(buckets)) {
    const c = b.Properties?.PublicAccessBlockConfiguration ?? {};
    for (const k of ['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets']) {
      if (c[k] !== true) out.push(`${id}: ${k} is not true`);
    }
    if (b.Properties?.AccessControl && b.Properties.AccessControl !== 'Private') out.push(`${id}: ACL ${b.Properties.AccessControl}`);
  }
  const policies = template.findResources('AWS::S3::BucketPolicy') as Record<string, Json>;
  for (const [id, p] of Object.entries(policies)) {
    for (const s of asArray<Json>(p.Properties.PolicyDocument.Statement)) {
      const principal = s.Principal;
      const anyone = principal === '*' || asArray(principal?.AWS).includes('*');
      if (s.Effect === 'Allow' && anyone) out.push(`${id}: allows Principal "*"`);
    }
  }
  return out;
}

/** Statements of the roles of OUR functions (the given role logical ids) with a wildcard action,
 * or with Resource "*" for anything but the X-Ray actions. */
export function wildcardStatements(template: Template, roleIds: string[]): string[] {
  const out: string[] = [];
  const policies = template.findResources('AWS::IAM::Policy') as Record<string, Json>;
  for (const [id, p] of Object.entries(policies)) {
    const roles = asArray<Json>(p.Properties.Roles).map((r) => r.Ref);
    if (!roles.some((r) => roleIds.includes(r))) continue;
    for (const s of asArray<Json>(p.Properties.PolicyDocument.Statement)) {
      const actions = asArray<string>(s.Action);
      for (const a of actions) if (a.includes('*')) out.push(`${id}: wildcard action ${a}`);
      if (asArray(s.Resource).includes('*')) {
        for (const a of actions) if (!STAR_RESOURCE_ALLOWED.has(a)) out.push(`${id}: ${a} on Resource "*"`);
      }
      if (s.NotAction || s.NotResource) out.push(`${id}: NotAction/NotResource`);
    }
  }
  const roles = template.findResources('AWS::IAM::Role') as Record<string, Json>;
  for (const id of roleIds) {
    for (const m of asArray(roles[id]?.Properties?.ManagedPolicyArns)) out.push(`${id}: managed policy ${JSON.stringify(m)}`);
  }
  return out;
}

/** API methods that do not require an API key, or that use no authorisation at all besides. */
export function unauthenticatedMethods(template: Template): string[] {
  const methods = template.findResources('AWS::ApiGateway::Method') as Record<string, Json>;
  return Object.entries(methods)
    .filter(([, m]) => m.Properties.HttpMethod !== 'OPTIONS')
    .filter(([, m]) => m.Properties.ApiKeyRequired !== true && (m.Properties.AuthorizationType ?? 'NONE') === 'NONE')
    .map(([id, m]) => `${id}: ${m.Properties.HttpMethod} needs no API key`);
}

/** Tables without point-in-time recovery. */
export function tablesWithoutPitr(template: Template): string[] {
  const tables = template.findResources('AWS::DynamoDB::Table') as Record<string, Json>;
  return Object.entries(tables)
    .filter(([, t]) => t.Properties.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled !== true)
    .map(([id]) => `${id}: no point-in-time recovery`);
}
