/**
 * Meraki detection, measured (part of `npm run bench -- meraki`, see ./meraki.ts): from the start
 * of loss on a branch's path to its primary hub to the tag swap, on the simulator's clock (the
 * Dashboard's series lag 2 minutes and are per minute).
 *
 * - Ours: the sandbox's whole controller (health-check handler on its schedule, DynamoDB Local
 *   and its stream, the failover handler, the pipeline director, the shared budget) pointed at
 *   the simulator as an external Dashboard (organization `det-ctl`).
 * - The reference script's loop (organization `det-seed`, same networks and the same loss at the
 *   same simulated time): every 30 s one `uplinksLossAndLatency` read; a series to a hub (its
 *   filter: ip ≠ 8.8.8.8 and uplink ≠ wan1) with any point ≥ 30 % → GET the network, PUT its
 *   tags swapped.
 *
 * The simulator's clock runs `timeScale` times faster than the wall clock (the sandbox's
 * schedule and durations are scaled alike), so a run takes seconds; figures are simulated seconds.
 */
import type { MerakiExternal } from '../local/sandbox/meraki-external.js';
import type { SandboxOptions } from '../local/sandbox/parts.js';
import { applyLocalFunctionEnv } from '../local/sandbox/env.js';
import { createMerakiSimulator, type SimOrganization } from '../local/simulator/meraki/server.js';
import { retagForHub } from '../shared/domain/meraki-tags.js';

/** The detection figures (simulated seconds). */
export interface DetectionFigures {
  detectionSeconds: number;
  seedDetectionSeconds: number;
  /** What the hysteresis allows: the lag, `failAfter` bad minutes, one health period. */
  detectionBoundSeconds: number;
  detectionBoundFormula: string;
  /** The reference loop's worst case: the lag, the minute the loss starts in, one 30 s poll. */
  seedBoundSeconds: number;
  seedBoundFormula: string;
  lossPct: number;
  timeScale: number;
  clock: string;
  seedPolls: number;
  why: string;
}

const HUBS = [
  { name: 'london', tagPrefix: 'london', trackedIp: '198.51.100.1' },
  { name: 'paris', tagPrefix: 'paris', trackedIp: '198.51.100.2' },
];
const organization = (id: string, prefix: string): SimOrganization => ({
  id,
  hubs: HUBS.map((h) => ({ ...h })),
  networks: [1, 2, 3].map((i) => ({
    id: `${prefix}_${i}`,
    name: `Branch ${prefix}${i}`,
    tags: ['branch', 'london_primary_up', 'paris_backup_down'],
  })),
});

/** Measure detection (see the module comment). */
export async function measureDetection(
  options: { dynamoEndpoint?: string; timeScale?: number; lossPct?: number } = {},
): Promise<DetectionFigures> {
  // 10: a simulated minute every 6 s; the controller's own processing (stream, handlers) costs
  // about a second of wall time, i.e. 10 simulated seconds, in the figure.
  const scale = options.timeScale ?? 10;
  const lossPct = options.lossPct ?? 45;
  applyLocalFunctionEnv({ functionName: 'cpe-failover-bench', logLevel: 'SILENT' });
  const { runSandbox } = await import('../local/sandbox/sandbox.js');
  const t0 = Date.now();
  const simNow = () => t0 + (Date.now() - t0) * scale;
  const sim = await createMerakiSimulator({
    organizations: [organization('det-ctl', 'C'), organization('det-seed', 'S')],
    now: simNow,
    batchCompletionDelayMs: 2_000 / scale,
    logBodies: false,
  });
  const swaps = new Map<string, number>();
  sim.onTunnelChange((c) => {
    if (c.to === 'paris' && !swaps.has(c.networkId)) swaps.set(c.networkId, c.at);
  });
  const stop = new AbortController();
  let lossAt: number | undefined;
  let seedPolls = 0;
  const wallMs = (simMs: number) => simMs / scale;

  const seedLoop = async () => {
    const header = { 'x-cisco-meraki-api-key': sim.apiKey, 'content-type': 'application/json' };
    while (!stop.signal.aborted && !swaps.has('S_1')) {
      seedPolls += 1;
      const res = await fetch(`${sim.baseUrl}/organizations/det-seed/devices/uplinksLossAndLatency`, {
        headers: header,
      });
      const series = (await res.json()) as {
        networkId: string;
        ip: string;
        uplink: string;
        timeSeries: { lossPercent: number | null }[];
      }[];
      for (const s of Array.isArray(series) ? series : []) {
        if (s.ip === '8.8.8.8' || s.uplink === 'wan1') continue;
        if (!s.timeSeries.some((p) => p.lossPercent !== null && p.lossPercent >= 30)) continue;
        const url = `${sim.baseUrl}/networks/${s.networkId}`;
        const network = (await (await fetch(url, { headers: header })).json()) as { tags: string[] };
        if (network.tags.includes('london_primary_down')) continue; // "VPN already swapped"
        const tags = retagForHub(network.tags, HUBS, 'paris');
        await fetch(url, { method: 'PUT', headers: header, body: JSON.stringify({ tags }) });
      }
      await new Promise((r) => setTimeout(r, wallMs(30_000)));
    }
  };

  const external: MerakiExternal = {
    baseUrl: sim.baseUrl,
    apiKey: () => sim.apiKey,
    organizations: [{ id: 'det-ctl', hubs: HUBS }],
    source: 'bench',
  };
  const sandboxOptions: SandboxOptions = {
    director: 'meraki',
    faults: [],
    merakiExternal: external,
    timeScale: scale,
    durationSec: 120,
    verbose: false,
    ...(options.dynamoEndpoint ? { dynamoEndpoint: options.dynamoEndpoint } : {}),
  };
  let seed: Promise<void> | undefined;
  const lines: string[] = [];
  try {
    await runSandbox(sandboxOptions, {
      signal: stop.signal,
      output: (line) => {
        lines.push(line);
        if (/ running /.test(line) && lossAt === undefined) {
          seed = seedLoop();
          // Loss after three clean simulated minutes (every path UP by then), at once on both.
          setTimeout(() => {
            lossAt = simNow();
            sim.setLoss('C_1', 'london', lossPct);
            sim.setLoss('S_1', 'london', lossPct);
          }, wallMs(180_000));
        }
        if (swaps.has('C_1') && swaps.has('S_1')) stop.abort();
      },
    });
    stop.abort();
    await seed;
  } finally {
    stop.abort();
    await sim.close();
  }
  const ours = swaps.get('C_1');
  const theirs = swaps.get('S_1');
  if (lossAt === undefined || ours === undefined || theirs === undefined) {
    throw new Error(
      `detection: no swap seen (loss at ${lossAt}, ours ${ours}, seed ${theirs}); sandbox said:\n${lines.slice(-15).join('\n')}`,
    );
  }
  const lagSec = 120;
  const failAfter = 3; // the configuration's default, as the sandbox runs it
  const healthPeriodSec = 60;
  return {
    detectionSeconds: Math.round((ours - lossAt) / 100) / 10,
    seedDetectionSeconds: Math.round((theirs - lossAt) / 100) / 10,
    detectionBoundSeconds: lagSec + failAfter * 60 + healthPeriodSec,
    seedBoundSeconds: lagSec + 60 + 30,
    detectionBoundFormula:
      'worst case: lag (120 s) + the minute the loss starts in and failAfter − 1 more (3 × 60 s) + one health-check period (60 s)',
    seedBoundFormula: 'worst case: lag (120 s) + the minute the loss starts in (60 s) + one 30 s poll',
    lossPct,
    timeScale: scale,
    clock: `scaled: the simulator's clock and the sandbox's schedules run ${scale}× the wall clock; figures in simulated seconds`,
    seedPolls,
    why:
      'the reference script swaps on the first bad point it sees (one lossy minute flips the tunnel); ' +
      'the controller waits for failAfter bad points in a row, each a minute of the series, so it is slower by design and does not flap',
  };
}
