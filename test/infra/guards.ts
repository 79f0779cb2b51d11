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

const DYNAMODB_WRITES = /^dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem|PartiQL(Insert|Update|Delete)|\*)$/;

/** Statements letting the given role write DynamoDB items without a dynamodb:LeadingKeys condition. */
export function unrestrictedTableWrites(template: Template, roleId: string, tableIds?: string[]): string[] {
  const out: string[] = [];
  const onTables = (s: Json) =>
    !tableIds || asArray<Json | string>(s.Resource).some((r) => r === '*' || (typeof r === 'object' && tableIds.includes(r['Fn::GetAtt']?.[0])));
  for (const [id, p] of Object.entries(template.findResources('AWS::IAM::Policy') as Record<string, Json>)) {
    if (!asArray<Json>(p.Properties.Roles).some((r) => r.Ref === roleId)) continue;
    for (const s of asArray<Json>(p.Properties.PolicyDocument.Statement)) {
      if (s.Effect !== 'Allow' || !onTables(s)) continue;
      const writes = asArray<string>(s.Action).filter((a) => DYNAMODB_WRITES.test(a));
      const keys = s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
      if (writes.length && !keys) out.push(`${id}: ${writes.join(', ')} on any partition key`);
    }
  }
  return out;
}

/** IAM StringLike: `*` any run of characters, `?` one character. */
export function stringLike(pattern: string, value: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]');
  return new RegExp(`^${re}$`).test(value);
}

/** Whether the role's policies allow `action` on the table (its logical id) for an item with partition key
 * `pk` — a small evaluator of what the templates use: Allow/Deny, exact or `*` actions, table ARNs by GetAtt,
 * and the ForAllValues:StringLike dynamodb:LeadingKeys condition. Any other condition is refused. */
export function allows(template: Template, roleId: string, action: string, tableId: string, pk: string): boolean {
  let allowed = false;
  for (const p of Object.values(template.findResources('AWS::IAM::Policy') as Record<string, Json>)) {
    if (!asArray<Json>(p.Properties.Roles).some((r) => r.Ref === roleId)) continue;
    for (const s of asArray<Json>(p.Properties.PolicyDocument.Statement)) {
      const actionMatch = asArray<string>(s.Action).some((a) => stringLike(a, action));
      const resourceMatch = asArray<Json | string>(s.Resource).some(
        (r) => r === '*' || (typeof r === 'object' && r['Fn::GetAtt']?.[0] === tableId && r['Fn::GetAtt'][1] === 'Arn'),
      );
      if (!actionMatch || !resourceMatch) continue;
      let conditionMatch = true;
      for (const [op, body] of Object.entries<Json>(s.Condition ?? {})) {
        const keys = Object.keys(body);
        if (op !== 'ForAllValues:StringLike' || keys.length !== 1 || keys[0] !== 'dynamodb:LeadingKeys') {
          throw new Error(`allows() cannot evaluate condition ${op} ${keys.join(',')}`);
        }
        conditionMatch &&= asArray<string>(body['dynamodb:LeadingKeys']).some((pattern) => stringLike(pattern, pk));
      }
      if (!conditionMatch) continue;
      if (s.Effect === 'Deny') return false;
      allowed = true;
    }
  }
  return allowed;
}
