/**
 * Sandbox scenario `director-loss` (`npm start -- --scenario director-loss`): the reference's
 * Scenario 2. The DC director dies while the DC concentrators keep running. No concentrator
 * failover is decided while DC is blind; after `dr.directorLostAfterSec` the health check raises
 * DIRECTOR_LOST and (this scenario turns `dr.autoSwitchover` on) starts SwitchoverDcToDr in
 * unplanned mode with the approval step; the operator approves; the DR director, restored from
 * the last DC backup, takes over and every branch moves to DR (the SSH-onboarded one once the
 * operator reboots it). Then the DC director comes back and the failback returns every branch to
 * HA_DC1. Each act is judged from the simulated world (./story.ts).
 */
import type { SandboxContext, Scenario } from '../parts.js';
import type { RunResult } from './dr-machines.js';
import { afterRoleChange, drScenarioPart, electedAndBackedUp, storyTimes, type DrStory } from './dr-story.js';

const NAME = 'director-loss';

async function script(ctx: SandboxContext, s: DrStory): Promise<void> {
  const sim = ctx.simulator!;
  const t = storyTimes(s.config, ctx);
  await electedAndBackedUp(ctx, s);

  ctx.print('── the DC director dies (its concentrators keep running)');
  let started: Promise<RunResult | undefined> | undefined;
  ctx.switchoverStarter = {
    async start(name, input) {
      started = s.run('DIRECTOR_LOST: the health check proposes the switchover', 'SwitchoverDcToDr', input);
      return `local:${name}`;
    },
  };
  sim.faults.director('DC', { mode: 'down' });
  const epochBefore = await s.epoch();
  await s.until('DIRECTOR_LOST', () => s.directorLost('DC'), t.lostMs * 2 + 10_000);
  const epochNow = await s.epoch();
  if (epochNow !== epochBefore)
    s.story.fail(`serving changed while DC was blind (epoch ${epochBefore} → ${epochNow})`);
  await s.story.act(
    'DC blind: no concentrator failover while its director is unreachable',
    'HA_DC1',
    0,
    s.sleep,
  );
  await s.until('the proposed switchover', () => started !== undefined, 10_000);
  await afterRoleChange(ctx, s, 'switchover approved', await started, 'DR', 'HA_DC1');

  ctx.print('── the DC director is back');
  sim.faults.director('DC', { mode: 'ok' });
  await s.until('DIRECTOR_LOST cleared', async () => !(await s.directorLost('DC')), t.lostMs + 10_000);
  const failback = await s.run('Operator: failback', 'FailbackDrToDc', { reason: 'DC director restored' });
  await afterRoleChange(ctx, s, 'failback', failback, 'HA_DC1', 'DR');
}

/** The `director-loss` scenario part. */
export const directorLossPart = drScenarioPart(NAME, script);

/** The registry entry. */
export const directorLossScenario: Scenario = {
  description:
    'Scenario 2: the DC director dies, its concentrators keep running; DIRECTOR_LOST, the proposed switchover approved, every branch on DR; the DC director back, failback to HA_DC1',
  create: directorLossPart,
  config: { dr: { autoSwitchover: true } },
};
