/**
 * Sandbox scenario `dc-site-loss` (`npm start -- --scenario dc-site-loss`): the reference's Case1
 * on the state machines the CDK app synthesizes, in the sandbox's one world. The lab elects
 * HA_DC1; the daily backup runs at DC; the DC site loses power (its director and concentrators
 * with it); the health check raises DIRECTOR_LOST; the operator's unplanned switchover waits out
 * the drain of the unreachable DC director, restores the backup into DR and makes DR ACTIVE, so
 * every branch moves to DR (the SSH-onboarded one once the operator reboots it); a backup runs at
 * DR; the DC site comes back and, once its concentrators are UP, the failback returns every
 * branch to HA_DC1; the next scheduled Backup performs the Case1 cleanup. Each act is judged
 * from the simulated world (./story.ts); the run ends with the verdict.
 */
import type { SandboxContext, Scenario } from '../parts.js';
import { afterRoleChange, drScenarioPart, electedAndBackedUp, storyTimes, type DrStory } from './dr-story.js';

const NAME = 'dc-site-loss';

async function script(ctx: SandboxContext, s: DrStory): Promise<void> {
  const sim = ctx.simulator!;
  const t = storyTimes(s.config, ctx);
  await electedAndBackedUp(ctx, s);

  ctx.print('── DC site lost (power): its director and concentrators stop answering');
  sim.faults.siteDown('DC');
  await s.until('DIRECTOR_LOST', () => s.directorLost('DC'), t.lostMs * 2 + 10_000);
  await s.story.act(
    'DC lost: the branches are stranded on the dead HA_DC1 until a switchover',
    'HA_DC1',
    0,
    s.sleep,
  );
  const switchover = await s.run('Operator: unplanned switchover', 'SwitchoverDcToDr', {
    mode: 'unplanned',
    reason: 'DC site lost',
  });
  await afterRoleChange(ctx, s, 'switchover', switchover, 'DR', 'HA_DC1');
  await s.run('Monday later: the daily backup runs at DR (ACTIVE) into drrepository/', 'Backup', {
    trigger: 'schedule',
  });

  ctx.print('── Tuesday: DC site back');
  sim.faults.siteUp('DC');
  // Fail back once DC is healthy for long enough: its concentrators UP after the hold.
  await s.until(
    'the DC director answering again',
    async () => !(await s.directorLost('DC')),
    t.lostMs + 10_000,
  );
  await s.sleep(t.holdMs + 5_000);
  const failback = await s.run('Operator: failback', 'FailbackDrToDc', { reason: 'DC site restored' });
  await afterRoleChange(ctx, s, 'failback', failback, 'HA_DC1', 'DR');
  await s.run('Next scheduled run: backup at DC, then the Case1 cleanup', 'Backup', { trigger: 'schedule' });
}

/** The `dc-site-loss` scenario part. */
export const dcSiteLossPart = drScenarioPart(NAME, script);

/** The registry entry: `SCENARIOS['dc-site-loss'] = dcSiteLossScenario` in ../registry.ts. */
export const dcSiteLossScenario: Scenario = {
  description:
    'Case1: HA_DC1 elected, daily backup at DC, DC site lost, DIRECTOR_LOST, unplanned switchover DC→DR (every branch on DR), backup at DR, DC back, failback DR→DC (every branch on HA_DC1), the next scheduled run deletes the DR-period and pre-failover ELK files',
  create: dcSiteLossPart,
};
