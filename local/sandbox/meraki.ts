/**
 * Sandbox Meraki mode (`npm start -- --director meraki`, issue 4 §4): the Meraki Dashboard
 * simulator instead of the zWAN one, a `director.kind: 'meraki'` configuration for the functions,
 * and a fault script on the simulated timeline (./meraki-faults.ts). The default: branch N_1 sees
 * 45 % loss to its primary hub (london) → its path goes DOWN → the failover function swaps its
 * tags to the backup (paris); the loss clears → after 5 minutes of clean series the path is UP →
 * the tags swap back. Every tag swap is printed as the simulator applies it.
 *
 * With `--director-url` (./meraki-external.ts) there is no simulator: the same controller runs
 * against that Dashboard, and no fault script (faults need the simulator's fault methods).
 *
 * Time. The simulator's clock runs `--time-scale` times faster than the wall clock, so its
 * per-minute loss series, its 2-minute lag and the 5-minute hold (measured on the series' own
 * timestamps, so `recoverAfterSec` stays 300) all shrink by the scale, as does the health check's
 * one-minute schedule (the core health-check part). An external Dashboard keeps real time
 * (`--time-scale` defaults to 1 there; set it only for an implementation whose clock runs faster).
 */
import { parseConfig, resetConfigCache } from '../../shared/config/load.js';
import type { Config, ControllerMode } from '../../shared/config/schema.js';
import { createHttpClient } from '../../shared/director/http.js';
import { API_KEY_ENV } from '../../shared/director/secrets.js';
import { onControlFault } from '../simulator/meraki/control.js';
import { createMerakiSimulator, type MerakiSimulator } from '../simulator/meraki/server.js';
import { discoverHubs, REDACTED, type ExternalHub, type MerakiExternal } from './meraki-external.js';
import { applyMerakiFault, describeMerakiFault, type MerakiFaultStep } from './meraki-faults.js';
import { MERAKI_SANDBOX_ORG } from './meraki-org.js';
import {
  sandboxMode,
  type PartFactory,
  type SandboxContext,
  type SandboxOptions,
  type SandboxPart,
} from './parts.js';
import { formatSimFault } from './timeline.js';

export { MERAKI_SANDBOX_ORG } from './meraki-org.js';

/** True when the sandbox runs in Meraki mode. */
export const isMerakiMode = (options: { director?: string }): boolean => options.director === 'meraki';

/** The functions' configuration for a Meraki Dashboard at `baseUrl` on a clock `scale` times fast. */
export function merakiSandboxConfig(
  director: {
    baseUrl: string;
    organizations: { id: string; hubs: ExternalHub[]; networkTag?: string }[];
    requestsPerSecond?: number;
    redirectHosts?: string[];
  },
  scale: number,
  /** `--observe`: every director write refused. @default act */
  mode: ControllerMode = 'act',
): Config {
  return parseConfig(
    {
      env: 'sandbox',
      mode,
      director: {
        kind: 'meraki',
        secretName: 'sandbox (CPE_FAILOVER_API_KEY is used)',
        ...director,
        // At most one loss call per organization and scheduled run (half a scaled minute).
        lossIntervalSec: 30 / scale,
      },
      // One loss call per run (the interval is then unused; a whole number keeps the handler's
      // deadline an integer). The hold is on the series' (scaled) timestamps: 300 s.
      health: { samplesPerRun: 1, sampleIntervalSec: 1 },
    },
    'sandbox configuration (meraki)',
  );
}

function publish(ctx: SandboxContext, config: Config): void {
  ctx.config = config;
  ctx.setEnv('CPE_FAILOVER_CONFIG', JSON.stringify(config));
  resetConfigCache();
}

function timing(config: Config, scale: number): string {
  return (
    `time scale ${scale}: a simulated minute every ${round(60 / scale)} s, DOWN after ${config.health.failAfter} bad minutes, ` +
    `UP after ${config.health.recoverAfterSec} s of clean series (${round(config.health.recoverAfterSec / scale)} s)`
  );
}

/** The Meraki simulator (scaled clock) or an external Dashboard, and the functions' configuration. */
export const merakiPart: PartFactory = (options) => {
  if (!isMerakiMode(options)) return undefined;
  return options.merakiExternal ? externalPart(options, options.merakiExternal) : simulatedPart(options);
};

function simulatedPart(options: SandboxOptions): SandboxPart {
  let sim: MerakiSimulator | undefined;
  const timers: NodeJS.Timeout[] = [];
  const scale = options.timeScale;
  const steps: readonly MerakiFaultStep[] = options.merakiFaults ?? [];
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
      const config = merakiSandboxConfig(
        {
          baseUrl: sim.baseUrl,
          organizations: [{ id: MERAKI_SANDBOX_ORG.id, hubs: MERAKI_SANDBOX_ORG.hubs }],
        },
        scale,
        sandboxMode(options),
      );
      publish(ctx, config);
      const s = sim;
      s.onTunnelChange((c) => {
        const tags = s.network(c.networkId)?.tags.join(' ') ?? '?';
        ctx.print(`meraki ${c.networkId}: tags swapped, tunnel ${c.from ?? '-'} → ${c.to ?? '-'}  [${tags}]`);
      });
      onControlFault(s, (name, args) => ctx.print(formatSimFault('Meraki', name, args)));
      ctx.print(
        `Meraki simulator at ${sim.baseUrl} (organization ${MERAKI_SANDBOX_ORG.id}, hubs london → paris, ` +
          `networks ${MERAKI_SANDBOX_ORG.networks.map((n) => n.id).join(', ')}); ${timing(config, scale)}`,
      );
    },
    running(ctx) {
      for (const step of steps) {
        const fire = () => {
          if (!sim) return;
          try {
            applyMerakiFault(sim, step, MERAKI_SANDBOX_ORG);
            ctx.print(`fault: ${describeMerakiFault(step)}`);
          } catch (error) {
            ctx.print(`fault ${describeMerakiFault(step)} failed: ${(error as Error).message}`);
          }
        };
        timers.push(setTimeout(fire, (step.atSec * 1000) / scale));
      }
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      if (sim) options.merakiLog?.push(...sim.log);
      await sim?.close();
      resetConfigCache();
    },
  };
}

function externalPart(options: SandboxOptions, external: MerakiExternal): SandboxPart {
  const scale = options.timeScale;
  return {
    name: 'meraki',
    async start(ctx: SandboxContext) {
      ctx.setEnv(API_KEY_ENV, external.apiKey());
      const peers = createHttpClient({
        name: 'meraki (hub discovery)',
        baseUrl: external.baseUrl,
        headers: async () => ({ authorization: `Bearer ${external.apiKey()}` }),
        timeoutMs: 60_000,
        ...(external.redirectHosts ? { redirectHosts: external.redirectHosts } : {}),
      });
      const organizations = [];
      for (const org of external.organizations) {
        organizations.push({ ...org, hubs: org.hubs ?? (await discoverHubs(peers, org.id)) });
      }
      const { baseUrl, requestsPerSecond, redirectHosts } = external;
      const config = merakiSandboxConfig(
        {
          baseUrl,
          organizations,
          ...(requestsPerSecond !== undefined ? { requestsPerSecond } : {}),
          ...(redirectHosts ? { redirectHosts } : {}),
        },
        scale,
        sandboxMode(options),
      );
      publish(ctx, config);
      const orgs = organizations
        .map(
          (o) =>
            `${o.id} (hubs ${o.hubs.map((h) => `${h.name} [${h.tagPrefix}, ${h.trackedIp}]`).join(' → ')})`,
        )
        .join(', ');
      ctx.print(
        `Meraki Dashboard at ${external.baseUrl} (external, API key ${REDACTED}; ${external.source}): ` +
          `organizations ${orgs}; ${options.observe ? 'observe mode: every tag write is refused' : 'the controller WILL write tags there (--observe is recommended)'}; ${timing(config, scale)}`,
      );
    },
    async stop() {
      resetConfigCache();
    },
  };
}

function round(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}
