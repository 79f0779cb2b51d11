// Stage selection and the typed per-stage configuration.
import { App } from 'aws-cdk-lib';
import { STAGE_CONFIG, STAGES, resolveStage } from '../../lib/config';
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
});
