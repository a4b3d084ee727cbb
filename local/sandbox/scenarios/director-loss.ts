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
import type { RunResult } from './dr-machines.js';
import { startDrStory, storyTimes, type DrStory } from './dr-story.js';
import type { PartFactory, SandboxContext, Scenario } from '../parts.js';

const NAME = 'director-loss';

async function script(ctx: SandboxContext, s: DrStory): Promise<void> {
  const sim = ctx.simulator!;
  const t = storyTimes(s.config, ctx);
  const settle = t.holdMs + t.driftMs + 10_000;

  ctx.print('── the lab elects its serving concentrator (HA_DC1) and the daily backup runs at DC');
  await s.until('HA_DC1 serving', async () => (await s.serving()) === 'HA_DC1', t.holdMs * 3);
  await s.story.act('the group elected HA_DC1', 'HA_DC1', settle, s.sleep);
  await s.run('Monday: the daily backup at the ACTIVE site (DC)', 'Backup', { trigger: 'schedule' });

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
  const switchover = await started;
  await s.story.act(
    'switchover approved: DR serves; the SSH-onboarded branch keeps the lost DC director until rebooted',
    (b) => (b.onboardedBy === 'ssh' ? 'HA_DC1' : 'DR'),
    settle,
    s.sleep,
  );
  s.rebootListed(switchover);
  await s.story.act('the operator rebooted the listed SSH CPEs: every branch on DR', 'DR', settle, s.sleep);

  ctx.print('── the DC director is back');
  sim.faults.director('DC', { mode: 'ok' });
  await s.until('DIRECTOR_LOST cleared', async () => !(await s.directorLost('DC')), t.lostMs + 10_000);
  const failback = await s.run('Operator: failback', 'FailbackDrToDc', { reason: 'DC director restored' });
  await s.story.act(
    'failback: HA_DC1 serves; the rebooted SSH branch follows the DR director until rebooted again',
    (b) => (b.onboardedBy === 'ssh' ? 'DR' : 'HA_DC1'),
    settle,
    s.sleep,
  );
  s.rebootListed(failback);
  await s.story.act(
    'the operator rebooted the listed SSH CPEs: every branch on HA_DC1',
    'HA_DC1',
    settle,
    s.sleep,
  );
  s.story.finish(NAME);
}

/** The `director-loss` scenario part. */
export const directorLossPart: PartFactory = () => {
  let story: DrStory | undefined;
  let running: Promise<void> | undefined;
  return {
    name: `scenario ${NAME}`,
    async start(ctx) {
      story = await startDrStory(ctx, NAME);
    },
    running(ctx) {
      if (!story) return;
      const s = story;
      running = script(ctx, s).catch((error: unknown) => {
        s.story.fail(`the script failed: ${String(error)}`);
        s.story.finish(NAME);
      });
    },
    async stop() {
      await running;
      await story?.close();
    },
  };
};

/** The registry entry. */
export const directorLossScenario: Scenario = {
  description:
    'Scenario 2: the DC director dies, its concentrators keep running; DIRECTOR_LOST, the proposed switchover approved, every branch on DR; the DC director back, failback to HA_DC1',
  create: directorLossPart,
  config: { dr: { autoSwitchover: true } },
};
