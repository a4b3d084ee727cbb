/**
 * Meraki re-tag benchmark (issue 4 §6): re-tag 10,000 networks of one organization on the Meraki
 * simulator with Meraki's limits (10 requests/s per organization with a burst of 20, at most 100
 * actions per batch, at most 5 batches running) and a batch completion delay of 2 s, through the
 * adapter's action batches. Compared with the reference script's way (GET then PUT per network,
 * one at a time) on the same simulator, measured on fewer networks and scaled linearly.
 * Writes bench/results/meraki-retag.json. Run: `npx tsx bench/meraki.ts` (or through bench/run.ts).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHttpClient, TokenBucket } from '../shared/director/http.js';
import { createMerakiDirector } from '../shared/director/meraki/adapter.js';
import { retagForHub } from '../shared/domain/meraki-tags.js';
import { DEFAULT_SIM_HUBS, generateOrganization } from '../local/simulator/meraki/generate.js';
import { createMerakiSimulator } from '../local/simulator/meraki/server.js';

const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), 'results', 'meraki-retag.json');

/** Options of {@link runMerakiBench} (defaults are the figures). */
export interface MerakiBenchOptions {
  networks?: number;
  batchCompletionDelayMs?: number;
  /** Networks re-tagged the reference script's way; the time is scaled to `networks`. */
  seedNetworks?: number;
  /** Where to write the figures. @default bench/results/meraki-retag.json */
  out?: string;
}

/** Run the benchmark and write its JSON; returns the figures. */
export async function runMerakiBench(options: MerakiBenchOptions = {}): Promise<Record<string, unknown>> {
  const networks = options.networks ?? 10_000;
  const delayMs = options.batchCompletionDelayMs ?? 2000;
  const seedNetworks = Math.min(networks, options.seedNetworks ?? 1000);
  const limits = { requestsPerSecond: 10, burst: 20, actionsPerBatch: 100, runningBatches: 5 };
  const hubs = [...DEFAULT_SIM_HUBS];
  const bulkOrg = generateOrganization({ id: '700001', networks });
  const seedOrg = generateOrganization({ id: '700002', networks: seedNetworks });
  const sim = await createMerakiSimulator({
    organizations: [bulkOrg, seedOrg],
    batchCompletionDelayMs: delayMs,
    rateLimit: { requestsPerSecond: limits.requestsPerSecond, burst: limits.burst },
    logBodies: false,
  });
  try {
    // The adapter's way: one paged listing, then action batches (default 9 requests/s).
    const director = createMerakiDirector({
      config: {
        kind: 'meraki',
        baseUrl: sim.baseUrl,
        secretName: 'bench',
        organizations: [{ id: bulkOrg.id, hubs }],
      },
      apiKey: async () => sim.apiKey,
      buckets: new Map<string, TokenBucket>(),
    });
    const before = sim.stats();
    const started = performance.now();
    const report = await director.retagMany(
      bulkOrg.id,
      bulkOrg.networks.map((n) => ({ networkId: n.id, hub: 'paris' })),
    );
    const seconds = (performance.now() - started) / 1000;
    const after = sim.stats();
    if (report.failed.length > 0 || report.changed.length !== networks) {
      throw new Error(`bench: ${report.failed.length} networks failed, ${report.changed.length} changed`);
    }

    // The lower bound the limits allow: waves of 5 batches each taking the completion delay,
    // and the requests (one listing page per 1,000 networks, one POST and at least one GET per
    // batch) at 10/s after the burst.
    const batches = Math.ceil(networks / limits.actionsPerBatch);
    const waves = Math.ceil(batches / limits.runningBatches);
    const minRequests = Math.ceil(networks / 1000) + 2 * batches;
    const boundSeconds = Math.max(
      (waves * delayMs) / 1000,
      Math.max(0, minRequests - limits.burst) / limits.requestsPerSecond,
    );

    // The reference script's way: GET then PUT per network, one at a time, same simulator and
    // limits (waiting Retry-After on 429, as any client must to finish at all).
    const seedClient = createHttpClient({
      name: 'seed-style',
      baseUrl: sim.baseUrl,
      headers: async () => ({ 'x-cisco-meraki-api-key': sim.apiKey }),
      retries: 50,
    });
    const seedBefore = sim.stats();
    const seedStarted = performance.now();
    for (const n of seedOrg.networks) {
      const res = await seedClient.request<{ tags: string[] }>({ method: 'GET', path: `/networks/${n.id}` });
      const tags = retagForHub(res.body.tags, hubs, 'paris');
      await seedClient.request({ method: 'PUT', path: `/networks/${n.id}`, body: { tags } });
    }
    const seedMeasured = (performance.now() - seedStarted) / 1000;
    const seedAfter = sim.stats();
    const seedStyleSeconds = seedMeasured * (networks / seedNetworks);

    const figures = {
      networks,
      seconds: round(seconds),
      requests: after.requests - before.requests,
      http429: after.http429 - before.http429,
      batches: report.batches.length,
      batchCompletionDelayMs: delayMs,
      limits,
      adapterRequestsPerSecond: 9,
      boundSeconds: round(boundSeconds),
      boundFormula:
        'max(ceil(ceil(networks/100)/5) * delay, (ceil(networks/1000) + 2*ceil(networks/100) - burst) / 10)',
      ratioToBound: round(seconds / boundSeconds),
      seedStyleSeconds: round(seedStyleSeconds),
      seedStyle: {
        measuredNetworks: seedNetworks,
        measuredSeconds: round(seedMeasured),
        requests: seedAfter.requests - seedBefore.requests,
        http429: seedAfter.http429 - seedBefore.http429,
        scaledLinearly: seedNetworks !== networks,
        note:
          seedNetworks !== networks
            ? `GET then PUT per network, one at a time, measured on ${seedNetworks} networks and scaled linearly to ${networks}`
            : 'GET then PUT per network, one at a time, measured on every network',
      },
      speedupVsSeedStyle: round(seedStyleSeconds / seconds),
      measuredAt: new Date().toISOString(),
      node: process.version,
    };
    const out = options.out ?? RESULTS;
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(figures, null, 2)}\n`);
    return figures;
  } finally {
    await sim.close();
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runMerakiBench().then(
    (figures) => console.log(JSON.stringify(figures, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
