/**
 * What the two DR scenarios share (`dc-site-loss`, `director-loss`): an S3 emulator with the
 * backup bucket, the DR world on the sandbox's own simulator and state table (one world: the
 * director that restores is the one the failover acts through), the synthesized state machines
 * run with printing, waits on the store and the world, the operator's approval and reboots, and
 * the {@link Story} that judges each act from the world.
 */
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../../../shared/config/schema.js';
import type { SiteName } from '../../../shared/domain/model.js';
import type { Workflow } from '../../../shared/dr/inputs.js';
import { createLocalS3Client, startS3Emulator, type S3Emulator } from '../../emulators/s3.js';
import { abortableSleep, need, type PartFactory, type SandboxContext } from '../parts.js';
import { drDefinitionsFromTemplate, type RunResult } from './dr-machines.js';
import { createDrWorld, type DrWorld } from './dr-world.js';
import { Story } from './story.js';

/** The printed state names that are noise (waits, polls, choices). */
const QUIET_STATES = /(Wait|Poll|Finished\?|Done|\?)$/;

/** A running DR story: its world, its printing workflow runner, and its judge. */
export interface DrStory {
  world: DrWorld;
  story: Story;
  config: Config;
  sleep: (ms: number) => Promise<void>;
  /** Run a workflow, printing its states; with `"approval": true` "the operator" approves it. */
  run(title: string, workflow: Workflow, input: unknown): Promise<RunResult | undefined>;
  /** The operator approves the next execution that waits for approval. */
  approveNext(workflow: string): Promise<void>;
  /** Resolve once `check` is true (polled every 250 ms) or `timeoutMs` passed; resolves whether it was. */
  until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean>;
  /** The group's serving concentrator as stored. */
  serving(): Promise<string | undefined>;
  /** The group's stored epoch (0: never elected). */
  epoch(): Promise<number>;
  /** DIRECTOR_LOST is recorded for `site`. */
  directorLost(site: SiteName): Promise<boolean>;
  /** The operator reboots the SSH-onboarded CPEs a switchover or failback listed. */
  rebootListed(result: RunResult | undefined): void;
  close(): Promise<void>;
}

const BUCKET = 'cpe-failover-sandbox-dr';

/** Build the DR story on the sandbox's parts (S3 emulator started here). */
export async function startDrStory(ctx: SandboxContext, name: string): Promise<DrStory> {
  const dynamo = need(ctx, 'dynamo', name);
  const tableName = need(ctx, 'tableName', name);
  const simulator = need(ctx, 'simulator', name);
  const config = need(ctx, 'config', name);
  const { templates } = need(ctx, 'assembly', name);
  const definitions = drDefinitionsFromTemplate(templates.stateless, templates.config.region);
  const s3emu: S3Emulator = await startS3Emulator();
  const s3: S3Client = createLocalS3Client(s3emu.endpoint);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const scale = ctx.options.timeScale;
  const world = await createDrWorld({
    doc: dynamo.doc,
    tableName,
    s3,
    bucket: BUCKET,
    definitions,
    simulator,
    drConfig: config.dr,
    realTime: true,
    jobDurationMs: 1500,
    waitMs: 250,
    print: (line) => ctx.print(`   notify ${line}`),
  });
  const story = new Story(ctx, simulator.world);
  const sleep = abortableSleep(ctx.signal);
  ctx.print(
    `${name}: S3 emulator ${s3emu.endpoint} (bucket ${BUCKET}); the state machines act on the sandbox's simulator; Wait states 250 ms, jobs 1.5 s`,
  );
  const listKeys = async (prefix: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? [])
      .map((o) => o.Key ?? '')
      .sort();

  const run: DrStory['run'] = async (title, workflow, input) => {
    if (ctx.signal.aborted) return undefined;
    ctx.print(`── ${title}: start ${workflow} ${JSON.stringify(input)}`);
    // With `"approval": true` the operator approves as soon as the request is notified.
    if ((input as { approval?: unknown }).approval === true) void approveNext(workflow);
    const r = await world.run(workflow, input, {
      // FenceOldSite retries every 30 s while an unreachable old director drains; scaled.
      retryMs: Math.round(30_000 / scale),
      onEvent: (e) => {
        if (e.type === 'StateEntered' && e.state && !QUIET_STATES.test(e.state))
          ctx.print(`   ${workflow} › ${e.state}`);
        if (e.type === 'StateFailed' || e.type === 'StateCaught')
          ctx.print(`   ${workflow} ✗ ${e.state}: ${e.error}`);
      },
    });
    ctx.print(
      `── ${workflow} ${r.status}${r.error ? ` (${r.error}: ${r.cause})` : ''} in ${(r.durationMs / 1000).toFixed(1)} s`,
    );
    const roles = await world.repo.getSiteRoles();
    ctx.print(`   site roles: DC ${roles.DC}, DR ${roles.DR}`);
    const elk = [...(await listKeys('dcrepository/')), ...(await listKeys('drrepository/'))];
    ctx.print(`   ELK objects in s3://${BUCKET}: ${elk.length ? elk.join(', ') : '(none)'}`);
    if (r.status !== 'SUCCEEDED') story.fail(`${title}: ${workflow} ${r.status} (${r.error ?? ''})`);
    return r;
  };

  const approveNext = async (workflow: string) => {
    const token = await world.tokens.next();
    ctx.print(`── operator: approves ${workflow} from the approval notice (send-task-success)`);
    world.tokens.sendTaskSuccess(token, { approved: true, by: 'sandbox operator' });
  };

  const until: DrStory['until'] = async (what, check, timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    while (!ctx.signal.aborted) {
      if (await check()) return true;
      if (Date.now() >= deadline) {
        ctx.print(`   (gave up waiting for ${what} after ${Math.round(timeoutMs / 1000)} s)`);
        return false;
      }
      await sleep(250);
    }
    return false;
  };

  const groupKey = () => {
    const tenant = [...simulator.world.tenants.values()][0];
    const hub = [...simulator.world.cpes.values()].find(
      (c) => c.tenantId === tenant?.id && simulator.world.isConcentrator(c),
    );
    return `${tenant?.id ?? ''}#${hub?.metadata.HA_NAME ?? ''}`;
  };

  return {
    world,
    story,
    config,
    sleep,
    run,
    approveNext,
    until,
    async serving() {
      return (await world.repo.getGroup(groupKey()))?.servingId;
    },
    async epoch() {
      return (await world.repo.getGroup(groupKey()))?.epoch ?? 0;
    },
    async directorLost(site) {
      return (await world.repo.loadDirectorStatus(site))?.lostAt !== undefined;
    },
    rebootListed(result) {
      const out = result?.output as { sshCpes?: { cpes: { id: string }[] } } | undefined;
      const ids = out?.sshCpes?.cpes.map((c) => c.id) ?? [];
      if (ids.length === 0) return;
      ctx.print(`── operator: reboots the SSH-onboarded CPEs the workflow listed: ${ids.join(', ')}`);
      simulator.world.reboot(ids);
    },
    async close() {
      await world.close();
      s3.destroy();
      await s3emu.stop();
    },
  };
}

/** The scaled durations of a story (health hold, director loss, drain, drift period). */
export function storyTimes(config: Config, ctx: SandboxContext) {
  const s = 1000;
  return {
    holdMs: config.health.recoverAfterSec * s,
    lostMs: config.dr.directorLostAfterSec * s,
    drainMs: config.dr.drainAfterSec * s,
    /** The drift reconcile's period in the sandbox (5 minutes scaled). */
    driftMs: (300 * s) / ctx.options.timeScale,
  };
}

/** The common start of both stories: the lab elects HA_DC1, then the daily backup runs at DC. */
export async function electedAndBackedUp(ctx: SandboxContext, s: DrStory): Promise<void> {
  const t = storyTimes(s.config, ctx);
  ctx.print('── the lab elects its serving concentrator (HA_DC1) before anything is lost');
  await s.until('HA_DC1 serving', async () => (await s.serving()) === 'HA_DC1', t.holdMs * 3);
  await s.story.act('the group elected HA_DC1', 'HA_DC1', settleMs(ctx, s), s.sleep);
  await s.run('Monday: the daily backup at the ACTIVE site (DC)', 'Backup', { trigger: 'schedule' });
}

/**
 * The acts after a role change to `site` (its serving concentrator `to`, the old one `from`):
 * the provisioning-onboarded branch follows at once, the SSH-onboarded one keeps the old director
 * until the operator reboots the CPEs the workflow listed; then every branch is on `to`.
 */
export async function afterRoleChange(
  ctx: SandboxContext,
  s: DrStory,
  what: string,
  result: RunResult | undefined,
  to: string,
  from: string,
): Promise<void> {
  await s.story.act(
    `${what}: ${to} serves; the SSH-onboarded branch follows the old director until rebooted`,
    (b) => (b.onboardedBy === 'ssh' ? from : to),
    settleMs(ctx, s),
    s.sleep,
  );
  s.rebootListed(result);
  await s.story.act(
    `the operator rebooted the listed SSH CPEs: every branch on ${to}`,
    to,
    settleMs(ctx, s),
    s.sleep,
  );
}

/** How long an act may take to settle: a hold, a drift pass, and a margin. */
function settleMs(ctx: SandboxContext, s: DrStory): number {
  const t = storyTimes(s.config, ctx);
  return t.holdMs + t.driftMs + 10_000;
}

/** A scenario part that runs `script` on a {@link DrStory} once the sandbox is running. */
export function drScenarioPart(
  name: string,
  script: (ctx: SandboxContext, s: DrStory) => Promise<void>,
): PartFactory {
  return () => {
    let story: DrStory | undefined;
    let running: Promise<void> | undefined;
    return {
      name: `scenario ${name}`,
      async start(ctx) {
        story = await startDrStory(ctx, name);
      },
      running(ctx) {
        if (!story) return;
        const s = story;
        running = script(ctx, s)
          .then(() => s.story.finish(name))
          .catch((error: unknown) => {
            s.story.fail(`the script failed: ${String(error)}`);
            s.story.finish(name);
          });
      },
      async stop() {
        await running;
        await story?.close();
      },
    };
  };
}
