import { createTestDrWorld, expectSucceeded, type TestDrWorld } from './fixture.js';

describe('DR Backup state machine (synthesized, run locally)', () => {
  let w: TestDrWorld;
  beforeAll(async () => {
    w = await createTestDrWorld({ startAt: Date.parse('2026-11-23T12:00:00Z') });
  }, 60_000);
  afterAll(async () => {
    await w?.dispose();
  });

  it('backs up the ACTIVE site, verifies every object and records it', async () => {
    const r = await w.run('Backup', { trigger: 'schedule' });
    expectSucceeded(r);
  });
});
