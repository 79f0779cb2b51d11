// Stage selection and the typed per-stage configuration.
import { App } from 'aws-cdk-lib';
import { ConfigError, QUOTA_SAFE_MEMORY_MB, STAGE_CONFIG, STAGES, resolveStage } from '../../lib/config';
import { build, cleanup } from './helpers';

afterAll(cleanup);

describe('resolveStage', () => {
  test.each(['dev', 'prod'])('-c stage=%s selects that config', (stage) => {
    const app = new App({ context: { stage } });
    expect(resolveStage(app).stage).toBe(stage);
  });

  test('an unknown stage is refused with the valid stages listed', () => {
    const app = new App({ context: { stage: 'staging' } });
    expect(() => resolveStage(app)).toThrow('Unknown stage "staging": pass one of dev, prod with -c stage=<name>');
  });

  test('a missing stage is refused too', () => {
    expect(() => resolveStage(new App())).toThrow(/^No stage given: pass one of dev, prod/);
  });

  test('building the app for an unknown stage fails before any resource exists', () => {
    expect(() => build('Prod')).toThrow(/Unknown stage "Prod"/);
  });
});

describe('STAGE_CONFIG', () => {
  test('has an entry for every stage, each naming itself', () => {
    expect(Object.keys(STAGE_CONFIG).sort()).toEqual([...STAGES].sort());
    for (const [key, cfg] of Object.entries(STAGE_CONFIG)) expect(cfg.stage).toBe(key);
  });

  test.each(Object.values(STAGE_CONFIG))('$stage: sizes are within Lambda limits', (cfg) => {
    for (const f of [cfg.training, cfg.api]) {
      expect(f.memorySize).toBeGreaterThanOrEqual(128);
      expect(f.memorySize).toBeLessThanOrEqual(10_240);
      expect(f.ephemeralStorageMiB).toBeGreaterThanOrEqual(512);
      expect(f.ephemeralStorageMiB).toBeLessThanOrEqual(10_240);
      expect(f.timeoutSeconds).toBeLessThanOrEqual(900);
    }
    // API Gateway's integration timeout is 29 s: a slower Lambda would only produce 504s
    expect(cfg.api.timeoutSeconds).toBeLessThan(29);
    expect(cfg.training.retryAttempts).toBeGreaterThanOrEqual(0);
    expect(cfg.training.retryAttempts).toBeLessThanOrEqual(2);
    expect(cfg.training.maxEventAgeHours).toBeLessThanOrEqual(6);
    expect(cfg.api.throttle.burstLimit).toBeGreaterThanOrEqual(cfg.api.throttle.rateLimit);
  });

  test.each(Object.values(STAGE_CONFIG))('$stage: deploys on a new account’s quotas (3,008 MB, no provisioned concurrency)', (cfg) => {
    expect(cfg.training.memorySize).toBeLessThanOrEqual(QUOTA_SAFE_MEMORY_MB);
    expect(cfg.api.memorySize).toBeLessThanOrEqual(QUOTA_SAFE_MEMORY_MB);
    expect(cfg.api.provisionedConcurrency).toBe(0);
    // a daily quota, if any, must outlast a day at the full rate
    const q = cfg.api.throttle.quotaPerDay;
    if (q !== undefined) expect(q).toBeGreaterThanOrEqual(cfg.api.throttle.rateLimit * 86_400);
  });
});

describe('context overrides', () => {
  const resolve = (context: Record<string, unknown>) => resolveStage(new App({ context }));

  test('plain keys apply to the stage being synthesised', () => {
    const cfg = resolve({
      stage: 'prod',
      trainingMemory: '10240',
      apiProvisioned: '2',
      alarmEmail: 'ops@example.com',
      corsOrigins: 'https://app.example.com, https://admin.example.com',
      apiKeys: 'web,batch:2',
      apiQuotaPerDay: '9000000',
      tableDeletionProtection: 'true',
    });
    expect(cfg.training.memorySize).toBe(10240);
    expect(cfg.api.provisionedConcurrency).toBe(2);
    expect(cfg.alarms.email).toBe('ops@example.com');
    expect(cfg.api.corsOrigins).toEqual(['https://app.example.com', 'https://admin.example.com']);
    expect(cfg.api.keys).toEqual([{ consumer: 'web', generation: 1 }, { consumer: 'batch', generation: 2 }]);
    expect(cfg.api.throttle.quotaPerDay).toBe(9_000_000);
    expect(cfg.tableDeletionProtection).toBe(true);
    // and the shared table is untouched
    expect(STAGE_CONFIG.prod.training.memorySize).toBe(QUOTA_SAFE_MEMORY_MB);
    expect(STAGE_CONFIG.prod.api.keys).toEqual([{ consumer: 'default', generation: 1 }]);
  });

  test('<stage>:<key> applies to that stage only (committable in cdk.json), JSON-typed values too', () => {
    const context = { 'prod:trainingMemory': 10240, 'prod:apiProvisioned': 2, 'prod:apiKeys': ['web', 'batch'] };
    expect(resolve({ ...context, stage: 'prod' }).training.memorySize).toBe(10240);
    expect(resolve({ ...context, stage: 'prod' }).api.keys.map((k) => k.consumer)).toEqual(['web', 'batch']);
    expect(resolve({ ...context, stage: 'dev' }).training.memorySize).toBe(QUOTA_SAFE_MEMORY_MB);
    expect(resolve({ ...context, stage: 'dev' }).api.provisionedConcurrency).toBe(0);
  });

  test('apiQuotaPerDay=0 means no quota', () => {
    expect(resolve({ stage: 'dev', apiQuotaPerDay: '0' }).api.throttle.quotaPerDay).toBeUndefined();
  });

  test.each([
    [{ trainingMemory: '20000' }, 'trainingMemory must be an integer from 128 to 10240, got "20000".'],
    [{ trainingMemory: '3 GB' }, 'trainingMemory must be an integer from 128 to 10240, got "3 GB".'],
    [{ apiProvisioned: '-1' }, 'apiProvisioned must be an integer from 0 to 1000, got "-1".'],
    [{ alarmEmail: 'ops' }, 'alarmEmail must be an e-mail address, got "ops".'],
    [{ corsOrigins: 'https://app.example.com/' }, 'corsOrigins: "https://app.example.com/" is not an origin like https://app.example.com (scheme and host, no path or trailing slash).'],
    [{ corsOrigins: '*,https://a.example.com' }, 'corsOrigins is either * or a list of origins, not both.'],
    [{ apiKeys: 'Web' }, 'apiKeys: "Web" is not a consumer name (lower-case letters, digits, -) with an optional :generation.'],
    [{ apiKeys: 'web,web:1' }, 'apiKeys lists web:1 twice.'],
    [{ tableDeletionProtection: 'yes' }, 'tableDeletionProtection must be true or false, got "yes".'],
    [{ trainingMemmory: '4096' }, /^Unknown setting "trainingMemmory": the settings are trainingMemory, apiProvisioned, /],
    [{ 'prod:memory': '4096' }, /^Unknown setting "prod:memory"/],
    [{ trainingMemory: '4096', 'prod:trainingMemory': '10240' }, '"prod:trainingMemory" is 10240 but "trainingMemory" is 4096: give one of them.'],
  ])('%j is refused with one sentence', (context, message) => {
    let error: unknown;
    try {
      resolve({ stage: 'prod', ...context });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    if (typeof message === 'string') expect((error as Error).message).toBe(message);
    else expect((error as Error).message).toMatch(message);
  });
});
