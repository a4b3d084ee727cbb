/**
 * The checker's in-process director transport, with the real zWAN simulator: answers handed over
 * uncopied, the `checkAnswers` record that shows when one changed afterwards, and the simulator's
 * own failures reported as internal errors (T1), never passed off as director faults.
 */
import { readFileSync } from 'node:fs';
import {
  createZwanSimulator,
  SIM_API_KEY,
  type ZwanSimulator,
} from '../../../local/simulator/zwan/server.js';
import type { TopologyInput } from '../../../local/simulator/topology.js';
import { SimScheduler } from '../../../local/sim/scheduler.js';
import { newTransportLog, simTransport, type TransportLog } from '../../../local/sim/transport.js';
import type { RawResponse } from '../../../shared/director/http.js';

const lab = JSON.parse(
  readFileSync(new URL('../../../local/simulator/topologies/chennai-lab.json', import.meta.url), 'utf8'),
) as TopologyInput;

const NO_FAULTS = {
  latencyMs: [1, 5] as [number, number],
  refused: 0,
  error5xx: 0,
  tooMany: 0,
  lostAnswer: 0,
  lateAnswer: 0,
};

async function setup(checkAnswers: boolean) {
  const sched = new SimScheduler(1);
  const sim: ZwanSimulator = await createZwanSimulator({
    topology: lab,
    listen: false,
    now: () => sched.now,
  });
  const log: TransportLog = newTransportLog();
  const transport = simTransport({
    sim,
    sched,
    rng: sched.rng.fork(),
    faults: () => NO_FAULTS,
    log,
    lossThresholdPct: 5,
    groupKey: (t, h) => `${t}#${h}`,
    checkAnswers,
  });
  /** One health query for HA_DC1, run on the scheduler as an actor. */
  const health = async (): Promise<RawResponse> => {
    const { done } = sched.spawn('test', () =>
      transport(new URL('http://sim/sites/DC/api/v1/tenants/lab-tenant/cpe-health'), {
        method: 'POST',
        headers: { 'X-Api-Key': SIM_API_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ cpeIds: ['HA_DC1'] }),
        timeoutMs: 1_000,
        maxBytes: 1_000_000,
      }),
    );
    await sched.runUntil(sched.now + 60_000);
    return done;
  };
  return { sim, log, health };
}

describe('simTransport (the checker’s in-process director)', () => {
  it('hands over the decoded answer uncopied; checkAnswers records it with its JSON text', async () => {
    const shared = await setup(false);
    const a = (await shared.health()).json as { results: { cpeId: string }[] };
    expect(a.results.map((r) => r.cpeId)).toEqual(['HA_DC1']);
    expect(shared.log.sharedAnswers).toEqual([]);

    const checked = await setup(true);
    const b = (await checked.health()).json;
    expect(b).toEqual(a);
    expect(checked.log.sharedAnswers).toHaveLength(1);
    expect(checked.log.sharedAnswers[0]?.value).toBe(b);
    expect(checked.log.sharedAnswers[0]?.text).toBe(JSON.stringify(b));
    expect(checked.log.internalErrors).toEqual([]);
  });

  it('a simulated director that changes an answer it gave earlier is seen: the text no longer matches', async () => {
    const { sim, log, health } = await setup(true);
    // Sabotage: the director keeps its last health answer and flips it on the next query.
    const original = sim.world.health.bind(sim.world);
    let last: { alive: boolean }[] | undefined;
    sim.world.health = (...args: Parameters<typeof original>) => {
      if (last?.[0]) last[0].alive = !last[0].alive;
      const report = original(...args);
      last = report.results;
      return report;
    };
    await health();
    await health();
    const changed = log.sharedAnswers.filter((x) => JSON.stringify(x.value) !== x.text);
    expect(changed.map((x) => x.what)).toEqual(['POST /sites/DC/api/v1/tenants/lab-tenant/cpe-health']);
  });

  it('a director answer that is not plain JSON, and a dispatch that throws, are internal errors (500 to the client)', async () => {
    const { sim, log, health } = await setup(true);
    const original = sim.world.health.bind(sim.world);
    sim.world.health = (...args: Parameters<typeof original>) => {
      const report = original(...args);
      (report.results[0] as { lastSeenAt?: unknown }).lastSeenAt = undefined;
      return report;
    };
    expect((await health()).status).toBe(200);
    expect(log.internalErrors).toEqual([
      'POST /sites/DC/api/v1/tenants/lab-tenant/cpe-health: the answer is not plain JSON at (answer).results[0].lastSeenAt',
    ]);

    sim.dispatch = () => Promise.reject(new Error('boom'));
    expect((await health()).status).toBe(500);
    expect(log.internalErrors[1]).toBe(
      'POST /sites/DC/api/v1/tenants/lab-tenant/cpe-health: {"error":{"code":"INTERNAL","message":"boom"}}',
    );
  });

  it('a route of the simulated director that throws on its own answers 500 INTERNAL and is an internal error', async () => {
    const { sim, log, health } = await setup(false);
    sim.world.health = () => {
      throw new Error('world bug');
    };
    expect((await health()).status).toBe(500);
    expect(log.internalErrors).toEqual([
      'POST /sites/DC/api/v1/tenants/lab-tenant/cpe-health: {"error":{"code":"INTERNAL","message":"world bug"}}',
    ]);
  });
});
