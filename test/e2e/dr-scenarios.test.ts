/**
 * The two DR stories end to end (`npm start -- --scenario dc-site-loss | director-loss`) at time
 * scale 60, judged by where the simulated world put each branch's tunnels after each act (the
 * reports carry the world's placement, read when the act was judged), never by printed lines.
 */
import { describe, expect, it } from '@jest/globals';
import { parseSandboxArgs } from '../../local/sandbox/args.js';
import type { ActReport } from '../../local/sandbox/parts.js';
import { runSandbox, type SandboxResult } from '../../local/sandbox/sandbox.js';

async function runScenario(name: string): Promise<{ acts: ActReport[]; result: SandboxResult }> {
  const options = parseSandboxArgs([
    '--scenario',
    name,
    '--time-scale',
    '60',
    '--duration',
    '150',
    '--dynamodb-endpoint',
    process.env.DYNAMODB_ENDPOINT ?? '',
  ]);
  const acts: ActReport[] = [];
  const result = await runSandbox(options, { output: () => undefined, onAct: (a) => acts.push(a) });
  return { acts, result };
}

/** Each act's placement as `BR1@DR BR2@HA_DC1`, from the world. */
const placements = (acts: ActReport[]) =>
  acts.map((a) => a.branches.map((b) => `${b.id}@${b.on ?? '-'}`).join(' '));

describe('DR scenarios, judged by the world', () => {
  it('dc-site-loss: HA_DC1, stranded on the dead DC, DR after the switchover (BR2 once rebooted), HA_DC1 after failback', async () => {
    const { acts, result } = await runScenario('dc-site-loss');
    expect(placements(acts)).toEqual([
      'BR1@HA_DC1 BR2@HA_DC1', // elected
      'BR1@HA_DC1 BR2@HA_DC1', // DC lost: nothing can move them until the switchover
      'BR1@DR BR2@HA_DC1', // switchover: BR2 (SSH-onboarded) still follows the lost DC director
      'BR1@DR BR2@DR', // BR2 rebooted
      'BR1@HA_DC1 BR2@DR', // failback: BR2 follows the DR director until rebooted again
      'BR1@HA_DC1 BR2@HA_DC1',
    ]);
    expect(acts.map((a) => a.branches.map((b) => b.managedBy).join(' '))).toEqual([
      'DC DC',
      'DC DC',
      'DR DC',
      'DR DR',
      'DC DR',
      'DC DC',
    ]);
    expect(result).toMatchObject({ failed: false, verdict: expect.stringMatching(/PASSED/) });
  }, 180_000);

  it('director-loss: no failover while DC is blind, DR after the approved switchover, HA_DC1 after failback', async () => {
    const { acts, result } = await runScenario('director-loss');
    expect(placements(acts)).toEqual([
      'BR1@HA_DC1 BR2@HA_DC1',
      'BR1@HA_DC1 BR2@HA_DC1', // DC blind: no change
      'BR1@DR BR2@HA_DC1',
      'BR1@DR BR2@DR',
      'BR1@HA_DC1 BR2@DR',
      'BR1@HA_DC1 BR2@HA_DC1',
    ]);
    expect(result).toMatchObject({ failed: false, verdict: expect.stringMatching(/PASSED/) });
  }, 180_000);
});
