// The stage variants CI lints with cfn-lint (tools/lint-templates.ts) and the cdk-nag test checks: the two
// stages as they deploy by default, and prod with every opt-in.

/** The variants linted: name → context (as `-c key=value` passes it). */
export const VARIANTS: Record<string, Record<string, string>> = {
  dev: { stage: 'dev' },
  prod: { stage: 'prod' },
  'prod-opted-in': {
    stage: 'prod',
    trainingMemory: '10240',
    apiProvisioned: '2',
    alarmEmail: 'ops@example.com',
    corsOrigins: 'https://app.example.com',
    apiKeys: 'web,batch,web:2',
    apiQuotaPerDay: '9000000',
    tableDeletionProtection: 'true',
    trainingMode: 'distributed',
    distributedConcurrency: '100',
  },
};
