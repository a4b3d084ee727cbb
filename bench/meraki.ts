/**
 * Meraki benchmark (issue 11): re-tag 10,000 networks of one organization while the health
 * check, a drift reconcile and status run against the same organization, every container within
 * the one request budget the controller shares (in a DynamoDB Local state table), on the Meraki
 * simulator with Meraki's limits (10 requests/s per organization with a burst, at most 100
 * actions per batch, at most 5 batches running) and batches that take seconds. Then detection
 * (./meraki-detection.ts): loss start → swap through the sandbox's whole controller, against the
 * reference script's loop on the same simulator and loss trace.
 *
 * The re-tag goes through the pipeline director's `repoint` (what every fan-out calls: coalesced
 * per organization into action batches, fenced, each swap verified through the VPN statuses), one
 * call per network as a hub loss would cause, in this process (the failover's container). The
 * other containers, each with its own DynamoDB clients and budget ledger, and the simulated
 * Dashboard run in child processes (./meraki-processes.ts), as they run apart in AWS: health
 * (`sampleHealth` once a minute), reconcile (`listCpes`, the drift reconcile's read, at the start
 * and every 5 minutes) and status (`checkPeers` and `vpnReach` once a minute). Requests are counted
 * as they arrive at the Dashboard. Fences read the group's epoch from memory (the group store is
 * not what is measured here).
 *
 * Writes bench/results/meraki-retag.json. Run: `npm run bench -- meraki`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { pathTarget } from '../shared/director/meraki/config.js';
import type { FenceState, RepointResult } from '../shared/director/port.js';
import { createTable, tableDefinition } from '../shared/store/definition.js';
import { createDynamoClients, type DynamoClients } from '../shared/store/dynamo.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../local/emulators/dynamodb-local.js';
import { generateOrganization } from '../local/simulator/meraki/generate.js';
import {
  benchContainer,
  startDashboard,
  startSideLoad,
  type ContainerSpec,
  type ReportedExchange,
  type SideCounts,
  type SideSpec,
  watchStalls,
} from './meraki-processes.js';
import { measureDetection, type DetectionFigures } from './meraki-detection.js';

const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), 'results', 'meraki-retag.json');

/** Options of {@link runMerakiBench} (defaults are the figures). */
export interface MerakiBenchOptions {
  networks?: number;
  /** The configured share of the organization's 10 requests/s. @default 5 */
  orgShare?: number;
  /** A batch of n actions takes `batchBaseMs + n · batchPerActionMs`. @default 1000 + 40 n (100 actions: 5 s) */
  batchBaseMs?: number;
  batchPerActionMs?: number;
  /** A tunnel is reachable this long after its tags changed (what verification waits for). @default 5000 */
  tunnelSettleMs?: number;
  /** Skip the detection part. @default false */
  skipDetection?: boolean;
  /** Where to write the figures. @default bench/results/meraki-retag.json */
  out?: string;
}

const ORG = '700001';
const MERAKI_LIMITS = { requestsPerSecond: 10, burst: 20, actionsPerBatch: 100, runningBatches: 5 };

/** What kind of call a logged request was. */
function kind(e: ReportedExchange): string {
  const p = e.path.replace(`/organizations/${ORG}`, '');
  if (e.method === 'POST' && p === '/actionBatches') return 'batch submit';
  if (p.startsWith('/actionBatches')) return 'batch status / pending';
  if (p === '/networks') return 'network listing';
  if (p.startsWith('/networks/') || e.path.startsWith('/networks/')) return 'one network';
  if (p.includes('uplinksLossAndLatency')) return 'loss series';
  if (p.includes('uplink/statuses')) return 'uplink statuses';
  if (p.includes('vpn/statuses')) return 'vpn statuses';
  if (p.includes('thirdPartyVPNPeers')) return 'peers';
  return `${e.method} ${p}`;
}

/** Run the benchmark and write its JSON; returns the figures. */
export async function runMerakiBench(options: MerakiBenchOptions = {}): Promise<Record<string, unknown>> {
  const networks = options.networks ?? 10_000;
  const share = options.orgShare ?? 5;
  const batchBaseMs = options.batchBaseMs ?? 1000;
  const batchPerActionMs = options.batchPerActionMs ?? 40;
  const batchMs = (actions: number) => batchBaseMs + actions * batchPerActionMs;
  const tunnelSettleMs = options.tunnelSettleMs ?? 5_000;

  const given = process.env.DYNAMODB_ENDPOINT;
  const local: DynamoDbLocal | undefined = given ? undefined : await startDynamoDbLocal();
  const endpoint = given ?? (local as DynamoDbLocal).endpoint;
  const admin = createDynamoClients({ endpoint });
  const tableName = `bench-meraki-${randomBytes(3).toString('hex')}`;
  await createTable(admin.client, tableDefinition(tableName));
  const org = generateOrganization({ id: ORG, networks });
  // The Dashboard and the side loads run in processes of their own (./meraki-processes.ts).
  const sim = await startDashboard({
    organizationId: ORG,
    networks,
    batchBaseMs,
    batchPerActionMs,
    tunnelSettleMs,
    rateLimit: { requestsPerSecond: MERAKI_LIMITS.requestsPerSecond, burst: MERAKI_LIMITS.burst },
  });
  const reach: ContainerSpec = {
    organizationId: ORG,
    dynamoEndpoint: endpoint,
    tableName,
    baseUrl: sim.baseUrl,
    apiKey: sim.apiKey,
    requestsPerSecond: share,
  };
  const { director: failover, clients: failoverClients } = benchContainer(reach);
  const clients: DynamoClients[] = [admin, failoverClients];
  const sideSpec = (role: SideSpec['role'], periodMs: number): SideSpec => ({ ...reach, role, periodMs });

  try {
    const sides = await Promise.all([
      startSideLoad(sideSpec('health', 60_000)),
      startSideLoad(sideSpec('reconcile', 300_000)),
      startSideLoad(sideSpec('status', 60_000)),
    ]);
    const stalls = watchStalls();
    const startedAt = Date.now();
    const started = performance.now();
    // The hub is lost: every network's group elected paris at epoch 2 and fans out.
    const fence = (networkId: string) => ({
      read: async (): Promise<FenceState> => ({ epoch: 2, servingId: pathTarget(networkId, 'paris') }),
    });
    const outcomes = await Promise.allSettled(
      org.networks.map((n) =>
        failover.repoint(
          {
            groupKey: `${ORG}#${n.id}`,
            tenantId: ORG,
            branchId: n.id,
            targetId: pathTarget(n.id, 'paris'),
            fromId: pathTarget(n.id, 'london'),
            epoch: 2,
            tunnels: [],
          },
          { fence: fence(n.id) },
        ),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const failoverStalls = stalls.stop();
    const [health, reconcile, status] = await Promise.all(sides.map((side) => side.stop()));
    const side = { health, reconcile, status } as Record<SideSpec['role'], SideCounts>;
    const report = await sim.report('paris');
    const after = report.stats;

    const done = outcomes.filter((o): o is PromiseFulfilledResult<RepointResult> => o.status === 'fulfilled');
    const failures = outcomes
      .filter((o): o is PromiseRejectedResult => o.status === 'rejected')
      .map((o) => `${(o.reason as Error).name}: ${(o.reason as Error).message}`);
    const onParis = report.onHub;
    const byKind: Record<string, number> = {};
    // Per kind: the first and last request, in seconds after the re-tag started.
    const spans: Record<string, [number, number]> = {};
    for (const e of report.log) {
      const k = kind(e);
      byKind[k] = (byKind[k] ?? 0) + 1;
      const t = round((e.at - startedAt) / 1000, 1);
      const span = spans[k];
      spans[k] = span ? [span[0], t] : [t, t];
    }
    const retagKinds = ['batch submit', 'batch status / pending', 'network listing', 'one network'];
    const retagRequests = retagKinds.reduce((sum, k) => sum + (byKind[k] ?? 0), 0);
    const verifyRequests = byKind['vpn statuses'] ?? 0;
    const requests = after.requests;

    // The lower bound the share and the batch rules allow for the re-tag (the goal's bound): the
    // fresh read first (a listing page per 1,000 networks at the share), then waves of 5 batches
    // of 100, each taking its duration, or their least requests (a submission and a status read
    // per batch) at the share, whichever is longer. What is measured ends when every swap is
    // verified, and no verification can succeed before the last batch's tunnels came up
    // (`tunnelSettleMs` after their tags): reported beside it, not judged.
    const batches = Math.ceil(networks / MERAKI_LIMITS.actionsPerBatch);
    const waves = Math.ceil(batches / MERAKI_LIMITS.runningBatches);
    const boundSeconds =
      Math.ceil(networks / 1000) / share +
      Math.max(
        (waves * batchMs(Math.min(networks, MERAKI_LIMITS.actionsPerBatch))) / 1000,
        (2 * batches) / share,
      );
    const verifiedBoundSeconds = boundSeconds + tunnelSettleMs / 1000;
    const maxPerSecond = report.maxPerSecond;
    const busiest = busiestSecond(report.log, startedAt);
    const requestsPerNetwork = retagRequests / networks;
    const ratioToBound = seconds / boundSeconds;
    const detection: DetectionFigures | { skipped: true } = options.skipDetection
      ? { skipped: true }
      : await measureDetection({ dynamoEndpoint: endpoint });
    const goals = {
      http429: { goal: 0, met: after.http429 === 0 },
      maxOrgRequestsPerSecond: { goal: `<= orgShare (${share})`, met: maxPerSecond <= share },
      requestsPerNetwork: { goal: 0.05, met: requestsPerNetwork <= 0.05 },
      ratioToBound: { goal: 1.2, met: ratioToBound <= 1.2 },
      ...('detectionSeconds' in detection
        ? {
            detectionSeconds: {
              goal: '<= 1.2 × detectionBoundSeconds (the hysteresis: 3 bad minutes after the 2-minute lag); the issue compares it with seedDetectionSeconds',
              met: detection.detectionSeconds <= detection.detectionBoundSeconds * 1.2,
            },
          }
        : {}),
    };
    const figures = {
      networks,
      seconds: round(seconds),
      repointed: done.length,
      repointFailures: failures.length,
      repointFailureSamples: [...new Set(failures)].slice(0, 5),
      networksOnNewHub: onParis,
      http429: after.http429,
      maxOrgRequestsPerSecond: maxPerSecond,
      orgShare: share,
      requestsPerNetwork: round(requestsPerNetwork, 4),
      requestsPerNetworkCounts:
        'the re-tag: network reads, batch submissions, batch status and pending reads',
      verifyRequestsPerNetwork: round(verifyRequests / networks, 4),
      seedRequestsPerNetwork: 2,
      requests,
      requestsByKind: byKind,
      firstAndLastSecondByKind: spans,
      busiestSecond: busiest,
      longestStalls: {
        why: "event-loop stalls (ms, at s after the start): a sender held up past its slot by more than the budget's guard (75 ms + 25 ms late) can crowd the next window; the Dashboard's delay the arrivals it logs",
        failover: failoverStalls.map((x) => ({ atSec: round((x.at - startedAt) / 1000, 1), ms: x.ms })),
        dashboard: report.stalls.map((x) => ({ atSec: round((x.at - startedAt) / 1000, 1), ms: x.ms })),
      },
      batchesCreated: after.batchesCreated,
      batchDuration: `${batchBaseMs} ms + ${batchPerActionMs} ms per action (100 actions: ${batchMs(100) / 1000} s)`,
      tunnelSettle: `${tunnelSettleMs} ms from a network's new tags to its tunnel reachable (the simulator's); every swap is verified, so the last one cannot be seen sooner`,
      boundSeconds: round(boundSeconds),
      boundFormula:
        'ceil(networks/1000)/orgShare + max(ceil(ceil(networks/100)/5) * batchDuration(100), 2*ceil(networks/100)/orgShare)',
      ratioToBound: round(ratioToBound),
      verifiedBoundSeconds: round(verifiedBoundSeconds),
      ratioToVerifiedBound: round(seconds / verifiedBoundSeconds),
      concurrentLoad: {
        health: { every: '60 s', call: 'sampleHealth (loss series + uplink statuses)', ...side.health },
        reconcile: { every: '300 s', call: 'listCpes (networks + VPN statuses)', ...side.reconcile },
        status: { every: '60 s', call: 'checkPeers + vpnReach', ...side.status },
      },
      budget: `one request budget in a DynamoDB Local state table (createTableRequestBudget, ${share}/s), a ledger per container (4 containers, each a process of its own, the Dashboard a fifth)`,
      limits: MERAKI_LIMITS,
      clock: 'real time for the re-tag',
      detection,
      goals,
      measuredAt: new Date().toISOString(),
      node: process.version,
    };
    const out = options.out ?? RESULTS;
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(figures, null, 2)}\n`);
    console.log(JSON.stringify(figures, null, 2));
    return figures;
  } finally {
    await sim.close();
    for (const c of clients) c.client.destroy();
    await local?.stop();
  }
}

/** The 1 s window of the request log with the most requests: its start (s after `t0`) and its requests by kind. */
function busiestSecond(
  log: readonly ReportedExchange[],
  t0: number,
): { startSec: number; requests: Record<string, number> } {
  const sorted = [...log].sort((a, b) => a.at - b.at);
  let best = { i: 0, j: 0 };
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] as ReportedExchange).at - (sorted[j] as ReportedExchange).at >= 1000) j++;
    if (i - j > best.i - best.j) best = { i, j };
  }
  const requests: Record<string, number> = {};
  for (const e of sorted.slice(best.j, best.i + 1)) requests[kind(e)] = (requests[kind(e)] ?? 0) + 1;
  const first = sorted[best.j];
  return { startSec: first ? round((first.at - t0) / 1000, 1) : 0, requests };
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runMerakiBench({ ...(process.argv.includes('--skip-detection') ? { skipDetection: true } : {}) }).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
