/**
 * The sandbox end to end, programmatically: DynamoDB (the test run's DynamoDB Local), the
 * simulator, the real health-check handler on its timer and a fault script, at time scale 60
 * (a sample every 83 ms, the 5-minute hold in 5 s). HA_DC1 must go DOWN and later come back UP.
 */
import { describe, expect, it } from '@jest/globals';
import { parseSandboxArgs } from '../../local/sandbox/args.js';
import { runSandboxUntil } from './run-sandbox.js';

describe('sandbox (npm start)', () => {
  it('prints HA_DC1 going DOWN and, after the scaled hold, UP; then stops everything', async () => {
    const envBefore = process.env.TABLE_NAME;
    const lines = await runSandboxUntil(
      // The fault waits 15 s so that HA_DC1 is UP first (5 s clean) even on a loaded machine.
      ['--time-scale', '60', '--duration', '50', '--faults', '15s down HA_DC1; 17s up HA_DC1'],
      /HA_DC1 \(DC\/ACTIVE\)\s+DOWN → UP/,
    );
    const text = lines.join('\n');
    const down = lines.findIndex((l) => /HA_DC1 \(DC\/ACTIVE\)\s+UP → DOWN\s+3 bad samples in a row/.test(l));
    const up = lines.findIndex((l) => /HA_DC1 \(DC\/ACTIVE\)\s+DOWN → UP\s+clean for 5 s/.test(l));
    // On failure these print the whole sandbox output.
    expect(down >= 0 ? 'DOWN seen' : text).toBe('DOWN seen');
    expect(up > down ? 'UP after DOWN' : text).toBe('UP after DOWN');
    expect(lines.findIndex((l) => /fault: up HA_DC1/.test(l))).toBeLessThan(up);
    expect(lines.at(-1)).toMatch(/stopped$/);
    // Environment restored.
    expect(process.env.TABLE_NAME).toBe(envBefore);
  }, 60_000);

  it('holds during a director outage: no handler error, one clear hold line instead', async () => {
    const lines = await runSandboxUntil(
      [
        '--time-scale',
        '60',
        '--duration',
        '110',
        '--faults',
        '20s down HA_DC1; 40s up HA_DC1; 45s director DC down; 75s director DC ok',
      ],
      /fault: director DC ok/,
    );
    const text = lines.join('\n');
    expect({
      handlerErrors: lines.filter((l) => /failover (handler|discarded)|All records failed/.test(l)),
      text,
    }).toMatchObject({
      handlerErrors: [],
    });
    expect({
      hold: lines.some((l) =>
        /holding .+: director DC unreachable \(.+\); the drift reconcile retries/.test(l),
      ),
      text,
    }).toMatchObject({ hold: true });
  }, 120_000);

  it('rejects a bad fault script naming the step and the field', () => {
    expect(() => parseSandboxArgs(['--faults', '5s explode HA_DC1'])).toThrow(
      /fault script is invalid: 0.*action/,
    );
    expect(() => parseSandboxArgs(['--time-scale', '0'])).toThrow(/--time-scale="0": expected a number > 0/);
  });
});
