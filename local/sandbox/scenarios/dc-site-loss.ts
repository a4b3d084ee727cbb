/**
 * Sandbox scenario `dc-site-loss` (`npm start -- --scenario dc-site-loss`): the reference's Case1
 * on the state machines the CDK app synthesizes. A scheduled backup at DC, the DC site lost,
 * the unplanned switchover DC→DR, a scheduled backup at DR, DC back, the failback DR→DC, and the
 * next scheduled run's cleanup, printing every state and what it did.
 *
 * It starts its own S3 emulator and attaches a job runner that really writes the bucket to the
 * sandbox's zWAN simulator: one world, so the directors the workflows back up, restore and
 * re-role are the ones the health check and the failover part (when the sandbox runs one) watch.
 * It uses the sandbox's state table, so the site-role records it writes reach the failover part
 * like in AWS.
 */
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Workflow } from '../../../shared/dr/inputs.js';
import { createLocalS3Client, startS3Emulator, type S3Emulator } from '../../emulators/s3.js';
import { abortableSleep, need, type PartFactory, type SandboxContext, type Scenario } from '../parts.js';
import { drDefinitionsFromTemplate } from './dr-machines.js';
import { createDrWorld, type DrWorld } from './dr-world.js';

/** Pause between the scenario's acts (ms), so the other parts (health, failover) can react. */
const ACT_PAUSE_MS = 3000;

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
}

/** The `dc-site-loss` scenario part. */
export const dcSiteLossPart: PartFactory = () => {
  let s3emu: S3Emulator | undefined;
  let s3: S3Client | undefined;
  let world: DrWorld | undefined;
  let script: Promise<void> | undefined;
  const bucket = 'cpe-failover-sandbox-dr';

  async function run(ctx: SandboxContext, w: DrWorld, client: S3Client): Promise<void> {
    const sleep = abortableSleep(ctx.signal);
    const step = async (title: string, workflow: Workflow, input: unknown) => {
      if (ctx.signal.aborted) return;
      w.clock.now = Date.now();
      ctx.print(`── ${title}: start ${workflow} ${JSON.stringify(input)}`);
      const r = await w.run(workflow, input, {
        onEvent: (e) => {
          if (e.type === 'StateEntered' && e.state && !/(Wait|Poll|Finished\?|Done)$/.test(e.state)) {
            ctx.print(`   ${workflow} › ${e.state}`);
          }
          if (e.type === 'StateFailed' || e.type === 'StateCaught')
            ctx.print(`   ${workflow} ✗ ${e.state}: ${e.error}`);
        },
      });
      ctx.print(
        `── ${workflow} ${r.status}${r.error ? ` (${r.error}: ${r.cause})` : ''} in ${(r.durationMs / 1000).toFixed(1)} s`,
      );
      const roles = await w.repo.getSiteRoles();
      ctx.print(`   site roles: DC ${roles.DC}, DR ${roles.DR}`);
      const elk = [
        ...(await listKeys(client, bucket, 'dcrepository/')),
        ...(await listKeys(client, bucket, 'drrepository/')),
      ];
      ctx.print(`   ELK objects in s3://${bucket}: ${elk.length ? elk.join(', ') : '(none)'}`);
      return r;
    };
    const siteDown = (up: boolean) => {
      if (up) w.sim.faults.siteUp('DC');
      else w.sim.faults.siteDown('DC');
    };

    await step('Monday: the daily backup at the ACTIVE site (DC)', 'Backup', { trigger: 'schedule' });
    await sleep(ACT_PAUSE_MS);
    ctx.print('── DC site lost (power): its director and concentrators stop answering');
    siteDown(false);
    await sleep(ACT_PAUSE_MS);
    const sw = await step('Operator: unplanned switchover', 'SwitchoverDcToDr', {
      mode: 'unplanned',
      reason: 'DC site lost',
    });
    const ssh = (sw?.output as { sshCpes?: { count: number; cpes: { id: string }[] } } | undefined)?.sshCpes;
    if (ssh)
      ctx.print(
        `   SSH-onboarded CPEs to reboot (new management URL): ${ssh.cpes.map((c) => c.id).join(', ') || 'none'}`,
      );
    ctx.print(`   DR management URL now ${w.sim.world.sites.DR.managementUrl}`);
    await sleep(ACT_PAUSE_MS);
    await step('Monday later: the daily backup runs at DR (ACTIVE) into drrepository/', 'Backup', {
      trigger: 'schedule',
    });
    await sleep(ACT_PAUSE_MS);
    ctx.print('── Tuesday: DC site back');
    siteDown(true);
    await sleep(ACT_PAUSE_MS);
    await step('Operator: failback', 'FailbackDrToDc', { reason: 'DC site restored' });
    await sleep(ACT_PAUSE_MS);
    await step('Next scheduled run: backup at DC, then the Case1 cleanup', 'Backup', { trigger: 'schedule' });
    ctx.print('── dc-site-loss scenario done (Ctrl-C to stop the sandbox)');
  }

  return {
    name: 'scenario dc-site-loss',
    async start(ctx) {
      const dynamo = need(ctx, 'dynamo', 'scenario dc-site-loss');
      const tableName = need(ctx, 'tableName', 'scenario dc-site-loss');
      const simulator = need(ctx, 'simulator', 'scenario dc-site-loss');
      // The DR state machines of the app the sandbox synthesized at start (./assembly.ts).
      const { templates } = need(ctx, 'assembly', 'scenario dc-site-loss');
      const definitions = drDefinitionsFromTemplate(templates.stateless, templates.config.region);
      s3emu = await startS3Emulator();
      s3 = createLocalS3Client(s3emu.endpoint);
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      world = await createDrWorld({
        doc: dynamo.doc,
        tableName,
        s3,
        bucket,
        definitions,
        simulator,
        jobDurationMs: 1500,
        waitMs: 250,
        print: (line) => ctx.print(`   notify ${line}`),
      });
      ctx.print(
        `dc-site-loss: S3 emulator ${s3emu.endpoint} (bucket ${bucket}); DR directors DC ${world.sim.url('DC')} DR ${world.sim.url('DR')}; Wait states 250 ms, jobs 1.5 s`,
      );
    },
    running(ctx) {
      if (!world || !s3) return;
      script = run(ctx, world, s3).catch((error: unknown) =>
        ctx.print(`dc-site-loss failed: ${String(error)}`),
      );
    },
    async stop() {
      await script;
      await world?.close();
      s3?.destroy();
      await s3emu?.stop();
    },
  };
};

/** The registry entry: `SCENARIOS['dc-site-loss'] = dcSiteLossScenario` in ../registry.ts. */
export const dcSiteLossScenario: Scenario = {
  description:
    'Case1: daily backup at DC, DC site lost, unplanned switchover DC→DR, backup at DR, DC back, failback DR→DC, the next scheduled run deletes the DR-period and pre-failover ELK files',
  create: dcSiteLossPart,
};
