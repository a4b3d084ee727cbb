/**
 * The checker's in-process director transport: answers handed over uncopied, and the
 * `freezeAnswers` mode that proves nobody keeps or mutates them, with the real zWAN simulator.
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

async function setup(freezeAnswers: boolean) {
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
    freezeAnswers,
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
  it('hands over the decoded answer; freezeAnswers freezes it all the way down', async () => {
    const shared = await setup(false);
    const a = (await shared.health()).json as { results: { wans: object[] }[] };
    expect(a.results[0]?.wans.length).toBeGreaterThan(0);
    expect(Object.isFrozen(a)).toBe(false);

    const frozen = await setup(true);
    const b = (await frozen.health()).json as { results: { wans: object[] }[] };
    expect(b).toEqual(a);
    expect(Object.isFrozen(b)).toBe(true);
    expect(Object.isFrozen(b.results[0]?.wans[0])).toBe(true);
  });

  it('a simulated director that changes an answer it gave earlier fails loudly under freezeAnswers (T1)', async () => {
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
    expect((await health()).status).toBe(200);
    const second = await health();
    expect(second.status).toBe(500);
    expect(log.internalErrors).toHaveLength(1);
    expect(log.internalErrors[0]).toMatch(/cpe-health: .*read only property 'alive'/);
  });
});
