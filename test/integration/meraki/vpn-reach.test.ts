/**
 * Swaps verified through the VPN statuses, against the Meraki simulator over HTTP: where a branch
 * actually goes (vpnReach), verifyReach after a swap (the tunnel's settle time, a broken tunnel),
 * and the inventory's tunnel states (a tagged hub the branch does not reach is CREATED).
 */
import { jest } from '@jest/globals';
import { branchCurrentTarget, parseInventory } from '../../../shared/domain/inventory.js';
import { pathTarget } from '../../../shared/director/meraki/adapter.js';
import { ValidationError } from '../../../shared/errors.js';
import { generateOrganization } from '../../../local/simulator/meraki/generate.js';
import { adapterOn, requestsTo, startSim, type TestSim } from './health-fixtures.js';

jest.setTimeout(60_000);

const [N0, N1, N2] = ['N_o1_0', 'N_o1_1', 'N_o1_2'];
const VPN = 'appliance/vpn/statuses';

describe('Meraki VPN statuses: where each branch actually goes', () => {
  const sims: TestSim[] = [];
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.close()));
  });
  const start = async () => {
    const sim = await startSim([generateOrganization({ id: 'o1', networks: 3 })]);
    sims.push(sim);
    sim.clock.t += 60_000; // the generated tags have settled
    return sim;
  };

  it('vpnReach: the hub each branch reaches, asking for a few networks by networkIds[]', async () => {
    const sim = await start();
    const { d } = adapterOn(sim);
    sim.setHubDown('o1', 'london', true);
    expect(await d.vpnReach('o1', [N0, 'N_unknown'])).toEqual([
      { networkId: N0, reachable: [], listed: ['london'], inStatuses: true },
      { networkId: 'N_unknown', reachable: [], listed: [], inStatuses: false },
    ]);
    expect(requestsTo(sim, VPN).at(-1)?.query['networkIds[]']).toEqual([N0, 'N_unknown']);
    sim.setHubDown('o1', 'london', false);
    const all = await d.vpnReach('o1');
    expect(all.map((r) => [r.networkId, r.hub])).toEqual([
      [N0, 'london'],
      [N1, 'london'],
      [N2, 'london'],
    ]);
    expect(requestsTo(sim, VPN).at(-1)?.query['networkIds[]']).toBeUndefined();
  });

  it('verifyReach sees a swap reach its hub after the settle time, one paged read per poll for all networks', async () => {
    const sim = await start();
    const { d } = adapterOn(sim);
    for (const n of [N0, N1]) await d.retagOne('o1', n, 'paris');
    sim.clearLog();
    const t0 = sim.clock.t;
    const result = await d.verifyReach(
      'o1',
      [
        { networkId: N0, hub: 'paris' },
        { networkId: N1, hub: 'paris' },
        { networkId: N2, hub: 'london' },
      ],
      { timeoutMs: 30_000, pollMs: 1_000 },
    );
    expect(result).toEqual({ reached: expect.arrayContaining([N0, N1, N2]), notReached: [] });
    expect(sim.reachableHub(N0)).toBe('paris');
    // The tunnel takes the simulator's 5 s to settle: about 6 polls of 1 s, each one request.
    const waited = sim.clock.t - t0;
    expect(waited).toBeGreaterThanOrEqual(5_000);
    expect(waited).toBeLessThan(8_000);
    const reads = requestsTo(sim, VPN);
    expect(reads.length).toBe(waited / 1_000 + 1);
    // Every poll reads every expected network: the verdict is as of one read.
    expect(reads[1]?.query['networkIds[]']).toEqual([N0, N1, N2]);
  });

  it('verifyReach of many networks reads every page per poll, at most one page a second on average', async () => {
    const sim = await startSim([generateOrganization({ id: 'o1', networks: 650 })]);
    sims.push(sim);
    sim.clock.t += 60_000;
    const { d } = adapterOn(sim);
    const broken = Array.from({ length: 150 }, (_, i) => `N_o1_${i}`);
    for (const n of broken) sim.breakTunnel(n, 'london', true);
    sim.clearLog();
    const expected = Array.from({ length: 650 }, (_, i) => ({ networkId: `N_o1_${i}`, hub: 'london' }));
    const result = await d.verifyReach('o1', expected, { timeoutMs: 20_000, pollMs: 1_000 });
    expect(result.reached).toHaveLength(500);
    expect(result.notReached.map((n) => n.networkId)).toEqual(broken);
    const reads = requestsTo(sim, VPN);
    // 650 networks at 300 a page: 3 pages per poll (150 still waiting is over the filter's 100).
    const polls = reads.filter((e) => e.query.startingAfter === undefined).map((e) => e.at);
    expect(reads).toHaveLength(polls.length * 3);
    const gaps = polls.slice(1).map((at, i) => at - (polls[i] as number));
    // 0, 3, …, 18 s, and the last at the 20 s deadline.
    expect(gaps).toEqual([3_000, 3_000, 3_000, 3_000, 3_000, 3_000, 2_000]);
  });

  it('verifyReach reports a broken tunnel as not reached, with the reason, after the timeout', async () => {
    const sim = await start();
    const { d } = adapterOn(sim);
    sim.breakTunnel(N0, 'paris', true);
    await d.retagOne('o1', N0, 'paris');
    await d.retagOne('o1', N1, 'paris');
    const t0 = sim.clock.t;
    const result = await d.verifyReach(
      'o1',
      [
        { networkId: N0, hub: 'paris' },
        { networkId: N1, hub: 'paris' },
      ],
      { timeoutMs: 20_000, pollMs: 2_000 },
    );
    expect(result.reached).toEqual([N1]);
    expect(result.notReached).toEqual([
      {
        networkId: N0,
        hub: 'paris',
        reason: `hub paris's VPN peer is listed for network ${N0} but unreachable after 20000 ms`,
      },
    ]);
    expect(sim.clock.t - t0).toBe(20_000);

    // A branch still on the other hub says which.
    sim.setTags(N2, ['london_primary_up', 'paris_backup_down']);
    const other = await d.verifyReach('o1', [{ networkId: N2, hub: 'paris' }], {
      timeoutMs: 0,
      pollMs: 1_000,
    });
    expect(other.notReached).toEqual([
      {
        networkId: N2,
        hub: 'paris',
        reaching: 'london',
        reason: `network ${N2} reaches hub london instead of paris after 0 ms`,
      },
    ]);
  });

  it('verifyReach answers as of its last read: a branch that reached early and lost its hub before the others arrived is not reached', async () => {
    const sim = await start();
    let sleeps = 0;
    const { d } = adapterOn(sim, {
      clock: {
        now: () => sim.clock.t,
        sleep: async (ms) => {
          sim.clock.t += Math.max(0, ms);
          // After the first poll (N2 already there, N0 still settling), N2's tunnel breaks.
          if (++sleeps === 1) sim.breakTunnel(N2, 'london', true);
        },
      },
    });
    await d.retagOne('o1', N0, 'paris');
    const result = await d.verifyReach(
      'o1',
      [
        { networkId: N0, hub: 'paris' },
        { networkId: N2, hub: 'london' },
      ],
      { timeoutMs: 20_000, pollMs: 1_000 },
    );
    expect(result.reached).toEqual([N0]);
    expect(result.notReached).toEqual([expect.objectContaining({ networkId: N2, hub: 'london' })]);
  });

  it('verifyReach: a failing read is "not yet" and named; bad input is a ValidationError naming the field', async () => {
    const sim = await start();
    const { d } = adapterOn(sim, { retries: 0 });
    sim.failRequests({ status: 503, forMs: 60_000, pathPrefix: `/organizations/o1/${VPN}` });
    const result = await d.verifyReach('o1', [{ networkId: N0, hub: 'london' }], {
      timeoutMs: 3_000,
      pollMs: 1_000,
    });
    expect(result.notReached[0]?.reason).toMatch(
      /no VPN status of network N_o1_0 was read after 3000 ms; the last read failed: .*503/,
    );
    const bad = (e: Parameters<typeof d.verifyReach>[1], o = { timeoutMs: 1, pollMs: 1 }) =>
      d.verifyReach('o1', e, o).catch((x: unknown) => x);
    const unknownHub = await bad([{ networkId: N0, hub: 'tokyo' }]);
    expect(unknownHub).toBeInstanceOf(ValidationError);
    expect((unknownHub as Error).message).toMatch(/expected\.0\.hub="tokyo"/);
    expect(String(await bad([{ networkId: N0, hub: 'london' }], { timeoutMs: 1, pollMs: 0 }))).toMatch(
      /options\.pollMs=0/,
    );
    expect(
      String(
        await bad([
          { networkId: N0, hub: 'london' },
          { networkId: N0, hub: 'paris' },
        ]),
      ),
    ).toMatch(/expected\.1\.hub="paris": expected one hub per network/);
    expect(await d.verifyReach('o1', [], { timeoutMs: 1, pollMs: 1 })).toEqual({
      reached: [],
      notReached: [],
    });
  });

  it('listCpes: a tagged hub the branch does not reach is CREATED (drift sees it), and says what it reaches', async () => {
    const sim = await start();
    const { d } = adapterOn(sim);
    sim.breakTunnel(N0, 'london', true);
    const cpes = await d.listCpes('o1');
    expect(requestsTo(sim, VPN)).toHaveLength(1);
    const branch = (id: string) => cpes.find((c) => c.id === id);
    expect(branch(N0)?.tunnels[0]).toMatchObject({ tunnelId: 'tag:london', state: 'CREATED' });
    expect(branch(N0)?.metadata.MERAKI_REACHES).toBe('');
    expect(branch(N1)?.tunnels[0]).toMatchObject({ tunnelId: 'tag:london', state: 'ESTABLISHED' });
    expect(branch(N1)?.metadata.MERAKI_REACHES).toBe('london');
    expect(branch(pathTarget(N0, 'london'))?.tunnels[0]?.state).toBe('CREATED');
    const inventory = parseInventory([{ tenantId: 'o1', cpes }]);
    const groups = inventory.tenants[0]?.groups ?? [];
    const current = (n: string) => {
      const g = groups.find((x) => x.haName === n)!;
      return branchCurrentTarget(g.branches[0]!, g);
    };
    expect(current(N0)).toBeUndefined();
    expect(current(N1)).toBe(pathTarget(N1, 'london'));
  });

  it('listCpes of one HA group reads that network and its VPN status only (two requests)', async () => {
    const sim = await start();
    const { d } = adapterOn(sim);
    sim.clearLog();
    const cpes = await d.listCpes('o1', { haName: N1 });
    expect(cpes.map((c) => c.id)).toEqual([N1, pathTarget(N1, 'london'), pathTarget(N1, 'paris')]);
    expect(cpes[0]?.metadata.MERAKI_REACHES).toBe('london');
    expect(sim.log.map((e) => [e.path, e.query['networkIds[]']])).toEqual([
      [`/networks/${N1}`, undefined],
      [`/organizations/o1/${VPN}`, N1], // one value: logged as a string
    ]);
    expect(await d.listCpes('o1', { haName: 'N_gone' })).toEqual([]);
  });

  it('listCpes: VPN statuses unreadable, the tags alone decide and a warning says so', async () => {
    const sim = await start();
    const { d, warnings } = adapterOn(sim, { retries: 0 });
    sim.breakTunnel(N0, 'london', true);
    sim.failRequests({ status: 500, forMs: 60_000, pathPrefix: `/organizations/o1/${VPN}` });
    const cpes = await d.listCpes('o1');
    expect(cpes.find((c) => c.id === N0)?.tunnels[0]?.state).toBe('ESTABLISHED');
    expect(cpes.find((c) => c.id === N0)?.metadata.MERAKI_REACHES).toBeUndefined();
    expect(warnings.map((w) => w.message)).toEqual([
      'Meraki VPN statuses unreadable: tunnels judged by the tags alone',
    ]);
  });
});
