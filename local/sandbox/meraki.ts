/**
 * Sandbox Meraki mode (`npm start -- --director meraki`, issue 4 §4): the Meraki Dashboard
 * simulator instead of the zWAN one, a `director.kind: 'meraki'` configuration for the functions,
 * and a timeline: branch N_1 sees 45 % loss to its primary hub (london) → its path goes DOWN → the
 * failover function swaps its tags to the backup (paris); the loss clears → after 5 minutes of clean
 * series the path is UP → the tags swap back. Every tag swap is printed as the simulator applies it.
 *
 * Time. The simulator's clock runs `--time-scale` times faster than the wall clock, so its
 * per-minute loss series, its 2-minute lag and the 5-minute hold (measured on the series' own
 * timestamps, so `recoverAfterSec` stays 300) all shrink by the scale, as does the health check's
 * one-minute schedule (the core health-check part). The timeline below is in simulated minutes.
 */
import { parseConfig, resetConfigCache } from '../../shared/config/load.js';
import { API_KEY_ENV } from '../../shared/director/secrets.js';
import {
  createMerakiSimulator,
  type MerakiSimulator,
  type SimOrganization,
} from '../simulator/meraki/server.js';
import type { PartFactory, SandboxContext } from './parts.js';

/** The sandbox's organization: two hubs in the reference's style and three branch networks. */
export const MERAKI_SANDBOX_ORG: SimOrganization = {
  id: 'sandbox-org',
  name: 'Sandbox organization',
  hubs: [
    { name: 'london', tagPrefix: 'london', trackedIp: '198.51.100.1' },
    { name: 'paris', tagPrefix: 'paris', trackedIp: '198.51.100.2' },
  ],
  networks: [1, 2, 3].map((i) => ({
    id: `N_${i}`,
    name: `Branch ${i}`,
    tags: ['branch', 'london_primary_up', 'paris_backup_down'],
    // Branch 3 tracks only its primary: paris stays UNKNOWN from there (never failed over onto).
    ...(i === 3 ? { trackedHubs: ['london'] } : {}),
  })),
};

/** The demo, in simulated minutes after start: loss on N_1 → london, then clean again. */
export const MERAKI_TIMELINE = [
  { minute: 4, networkId: 'N_1', hub: 'london', lossPct: 45 },
  { minute: 13, networkId: 'N_1', hub: 'london', lossPct: 0 },
] as const;

/** True when the sandbox runs in Meraki mode. */
export const isMerakiMode = (options: { director?: string }): boolean => options.director === 'meraki';

/** The Meraki simulator (scaled clock), the functions' Meraki configuration, and the timeline. */
export const merakiPart: PartFactory = (options) => {
  if (!isMerakiMode(options)) return undefined;
  let sim: MerakiSimulator | undefined;
  const timers: NodeJS.Timeout[] = [];
  const scale = options.timeScale;
  return {
    name: 'meraki',
    async start(ctx: SandboxContext) {
      const t0 = Date.now();
      sim = await createMerakiSimulator({
        organizations: [MERAKI_SANDBOX_ORG],
        now: () => t0 + (Date.now() - t0) * scale,
        batchCompletionDelayMs: 2_000 / scale,
        // Bodies only when a caller records the exchanges (options.merakiLog).
        logBodies: options.merakiLog !== undefined,
        maxLog: 10_000,
      });
      ctx.setEnv(API_KEY_ENV, sim.apiKey);
      const config = parseConfig(
        {
          env: 'sandbox',
          director: {
            kind: 'meraki',
            baseUrl: sim.baseUrl,
            secretName: 'sandbox (CPE_FAILOVER_API_KEY is used)',
            organizations: [{ id: MERAKI_SANDBOX_ORG.id, hubs: MERAKI_SANDBOX_ORG.hubs }],
            // At most one loss call per organization and scheduled run (half a scaled minute).
            lossIntervalSec: 30 / scale,
          },
          // One loss call per run (the interval is then unused; a whole number keeps the
          // handler's deadline an integer). The hold is on the series' (scaled) timestamps: 300 s.
          health: { samplesPerRun: 1, sampleIntervalSec: 1 },
        },
        'sandbox configuration (meraki)',
      );
      ctx.config = config;
      ctx.setEnv('CPE_FAILOVER_CONFIG', JSON.stringify(config));
      resetConfigCache();
      const s = sim;
      s.onTunnelChange((c) => {
        const tags = s.network(c.networkId)?.tags.join(' ') ?? '?';
        ctx.print(`meraki ${c.networkId}: tags swapped, tunnel ${c.from ?? '-'} → ${c.to ?? '-'}  [${tags}]`);
      });
      ctx.print(
        `Meraki simulator at ${sim.baseUrl} (organization ${MERAKI_SANDBOX_ORG.id}, hubs london → paris, ` +
          `networks ${MERAKI_SANDBOX_ORG.networks.map((n) => n.id).join(', ')}); time scale ${scale}: ` +
          `a simulated minute every ${round(60 / scale)} s, DOWN after ${config.health.failAfter} bad minutes, ` +
          `UP after ${config.health.recoverAfterSec} s of clean series (${round(config.health.recoverAfterSec / scale)} s)`,
      );
    },
    running(ctx) {
      for (const step of MERAKI_TIMELINE) {
        const timer = setTimeout(
          () => {
            sim?.setLoss(step.networkId, step.hub, step.lossPct);
            ctx.print(
              `fault: ${step.networkId} → ${step.hub} loss ${step.lossPct}% (simulated minute ${step.minute}; ` +
                `the Dashboard's series shows it 2 minutes later)`,
            );
          },
          (step.minute * 60_000) / scale,
        );
        timers.push(timer);
      }
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      if (sim) options.merakiLog?.push(...sim.log);
      await sim?.close();
      resetConfigCache();
    },
  };
};

function round(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}
