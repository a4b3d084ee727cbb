/**
 * The whole-system checker: determinism (a seed replays exactly), hand-written regression
 * schedules of the bugs it was built to find, and a range of random schedules with no violation.
 */
import { readFileSync } from 'node:fs';
import { concentratorMetadata, type TopologyInput } from '../../../local/simulator/topology.js';
import { CALM, type Fault, type Swarm } from '../../../local/sim/faults.js';
import { runParallel } from '../../../local/sim/runner.js';
import { runSchedule } from '../../../local/sim/world-check.js';
import { isKnownGap } from '../../../local/sim/invariants.js';
import type { SimWorld } from '../../../local/simulator/zwan/world.js';

const lab = JSON.parse(
  readFileSync(new URL('../../../local/simulator/topologies/chennai-lab.json', import.meta.url), 'utf8'),
) as TopologyInput;

/** A quiet network: no transport, store or stream faults, no crashes, no console; 4 minutes of faults. */
const calm: Partial<Swarm> = { ...CALM, faultPhaseMs: 240_000 };

/** One group g1 (DC1, DC2, DR1) with `branches` provisioning-onboarded branches on DC1. */
function drTopology(branches: number): TopologyInput {
  const concentrator = (
    slot: string,
    type: 'DC' | 'DR',
    state: 'ACTIVE' | 'PASSIVE',
    port: number,
    i: number,
  ) => ({
    id: `g1.${slot}`,
    name: `g1.${slot}`,
    tenantId: 't1',
    metadata: concentratorMetadata({ type, state, haName: 'g1', ip: `100.0.0.${i}`, port }),
    lans: [{ name: 'LAN00', cidr: `10.1.${i}.1/24`, virtualIp: `10.1.${type === 'DC' ? 0 : 2}.5` }],
    tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: 'g1-HA00', tunnelId: `g1-${slot}` }],
  });
  return {
    name: 'dr-regression',
    tenants: [{ id: 't1', name: 'Tenant 1' }],
    sites: { DC: { role: 'ACTIVE' }, DR: { role: 'PASSIVE' } },
    cpes: [
      concentrator('dc1', 'DC', 'ACTIVE', 30000, 1),
      concentrator('dc2', 'DC', 'PASSIVE', 40000, 2),
      concentrator('dr1', 'DR', 'ACTIVE', 50000, 3),
      ...Array.from({ length: branches }, (_, b) => ({
        id: `g1.b${b + 1}`,
        name: `g1.b${b + 1}`,
        tenantId: 't1',
        metadata: { CPE_BR_TYPE: 'HA', HA_NAME: 'g1', WAN00_PUB_IP: `101.0.${b >> 8}.${b & 255}` },
        lans: [{ name: 'LAN00', cidr: `192.168.${b + 1}.1/24` }],
        tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: 'g1-HA00', tunnelId: 'g1-dc1' }],
      })),
    ],
  };
}

const summary = (r: Awaited<ReturnType<typeof runSchedule>>) =>
  r.violations.map((v) => `${v.invariant}: ${v.message}`);

describe('the whole-system checker', () => {
  it('replays a seed exactly: same steps, same trace, same verdict', async () => {
    const a = await runSchedule(7);
    const b = await runSchedule(7);
    expect(b.steps).toBe(a.steps);
    expect(b.trace).toEqual(a.trace);
    expect(b.violations).toEqual(a.violations);
    expect(a.steps).toBeGreaterThan(500);
  });

  it('the lab after a DC1 outage: every branch on DC1 again, one notice per change (world state)', async () => {
    const faults: Fault[] = [
      { at: 100_000, verb: 'down', id: 'HA_DC1' },
      { at: 130_000, verb: 'up', id: 'HA_DC1' },
    ];
    const r = await runSchedule(11, { topology: lab, swarm: calm, faults });
    expect(summary(r)).toEqual([]);
    // Elected DC1 (after the first hold), failed over to DC2, failed back to DC1.
    expect(r.stats.changes).toBe(3);
  });

  it('--check-answers: a simulated director that changes an answer after giving it fails the schedule (T1)', async () => {
    const faults: Fault[] = [
      { at: 100_000, verb: 'down', id: 'HA_DC1' },
      { at: 130_000, verb: 'up', id: 'HA_DC1' },
    ];
    let sabotaged = false;
    const r = await runSchedule(11, {
      topology: lab,
      swarm: calm,
      faults,
      checkAnswers: true,
      // From the first write on, the DC director keeps its last health answer and flips it later.
      onApplied: (_a, world) => {
        if (sabotaged) return;
        sabotaged = true;
        const original = world.health.bind(world);
        let last: { alive: boolean }[] | undefined;
        world.health = (...args: Parameters<typeof original>) => {
          if (last?.[0]) last[0].alive = !last[0].alive;
          const report = original(...args);
          last = report.results;
          return report;
        };
      },
    });
    expect(sabotaged).toBe(true);
    const t1 = r.violations.filter((v) => v.invariant === 'T1').map((v) => v.message);
    expect(t1.length).toBeGreaterThan(0);
    expect(t1[0]).toMatch(
      /^an answer of POST \/sites\/D[CR]\/api\/v1\/tenants\/lab-tenant\/cpe-health changed after it was given/,
    );
    // The same schedule without the sabotage, checked the same way, is clean.
    expect(
      summary(await runSchedule(11, { topology: lab, swarm: calm, faults, checkAnswers: true })),
    ).toEqual([]);
  });

  it('regression: a director outage during the hold does not count as clean time (S4)', async () => {
    // Before the fix the hold was `sample.at - cleanSince`: DC1 came back UP right after the
    // director returned, with 50 s of the 60 s hold never observed.
    const faults: Fault[] = [
      { at: 100_000, verb: 'down', id: 'HA_DC1' },
      { at: 130_000, verb: 'up', id: 'HA_DC1' },
      { at: 135_000, verb: 'director', site: 'DC', mode: 'down', forMs: 50_000 },
    ];
    const r = await runSchedule(12, { topology: lab, swarm: calm, faults });
    expect(summary(r)).toEqual([]);
  });

  it('regression: a director outage is held, not sent to the DLQ (F1)', async () => {
    // Before the fix every record of a batch failed while the director answered 5xx; after five
    // retries the records were discarded into the DLQ.
    const faults: Fault[] = [
      { at: 100_000, verb: 'down', id: 'HA_DC1' },
      { at: 110_000, verb: 'director', site: 'DC', mode: 'error5xx', forMs: 90_000 },
    ];
    const r = await runSchedule(13, { topology: lab, swarm: calm, faults });
    expect(summary(r)).toEqual([]);
    expect(r.stats.dlq).toBe(0);
  });

  it('regression: pin DC2, then unpin while its fan-out runs, never strands a branch on DC2 (fence, then read; S3a)', async () => {
    // Before the fix the unpin's epoch-3 fan-out planned from a listing read before the epoch-2
    // re-points landed and made no director call, so they landed afterwards: the checker found
    // this in 32 of these 60 schedules on that code.
    const violating: string[] = [];
    for (let seed = 1; seed <= 60; seed++) {
      const gap = (seed * 37) % 2000;
      const r = await runSchedule(seed, {
        topology: lab,
        swarm: { ...calm, faultPhaseMs: 180_000, transport: { ...calm.transport!, latencyMs: [50, 400] } },
        faults: [],
        console: [
          { at: 100_000, op: 'pin', groupKey: 'lab-tenant#Chennai', concentratorId: 'HA_DC2', force: true },
          { at: 100_000 + gap, op: 'unpin', groupKey: 'lab-tenant#Chennai' },
        ],
      });
      violating.push(...summary(r).map((v) => `seed ${seed}: ${v}`));
    }
    expect(violating).toEqual([]);
  });

  it('regression: after a table restore (PITR) behind the director fence, the branches still come back (S3)', async () => {
    // The restored group is at epoch 1 while the DC director has seen epoch 4. Before the fix
    // every fan-out got 409, counted itself superseded, and BR1/BR2 stayed on DC2 for good.
    const faults: Fault[] = [
      { at: 100_000, verb: 'down', id: 'HA_DC1' },
      { at: 130_000, verb: 'up', id: 'HA_DC1' },
      { at: 210_000, verb: 'down', id: 'HA_DC1' },
      { at: 245_000, verb: 'restore-table', fromAt: 90_000 },
    ];
    const r = await runSchedule(3, { topology: lab, swarm: { ...calm, faultPhaseMs: 300_000 }, faults });
    expect(summary(r)).toEqual([]);
    expect(r.trace.some((line) => line.includes('restore the state table'))).toBe(true);
  });

  it('regression: a planned switchover while the epoch-2 fan-out runs through the DC director: nothing lands through DC after the role change, every branch ends on DR (S1 across directors, S3, S6)', async () => {
    // DC1 goes down at +100 s: DOWN three samples later, failover to DC2 at epoch 2, whose
    // fan-out (40 branches, 8 in flight, 50–400 ms a leg) runs for seconds through the DC
    // director. The switchover is started at moments across that fan-out: its FenceDcSite tells
    // the DC director PASSIVE under the fan-out, which must refuse the rest (DIRECTOR_PASSIVE).
    const topology = drTopology(40);
    const violating: string[] = [];
    let refusedUnderFence = 0;
    for (let i = 0; i < 10; i++) {
      const dcWrites: number[] = [];
      let world: SimWorld | undefined;
      const r = await runSchedule(21 + i, {
        topology,
        groupCall: false, // one call per branch: a fan-out that runs for seconds
        swarm: { ...calm, faultPhaseMs: 300_000, transport: { ...calm.transport!, latencyMs: [50, 400] } },
        faults: [
          { at: 100_000, verb: 'down', id: 'g1.dc1' },
          { at: 114_000 + i * 500, verb: 'dr', workflow: 'SwitchoverDcToDr', mode: 'planned' },
        ],
        traceLines: 5_000,
        onApplied: (a, w, now) => {
          world = w;
          if (a.site === 'DC' && a.op !== 'epoch') dcWrites.push(now);
        },
      });
      violating.push(...summary(r).map((v) => `switchover at +${114 + i * 0.5} s: ${v}`));
      expect(r.dr.map((d) => d.outcome)).toEqual(['SUCCEEDED']);
      // Nothing through the DC director once the switchover is done (S1 across directors holds
      // it to that from the role change itself).
      const ended = r.dr[0]?.endedAt ?? 0;
      expect(dcWrites.filter((t) => t > ended)).toEqual([]);
      // No branch ends on a concentrator of the PASSIVE site.
      const off = topology.cpes
        .filter((c) => !c.metadata.CPE_TYPE)
        .filter((b) => world?.currentTarget(b.id) !== 'g1.dr1');
      expect(off.map((b) => b.id)).toEqual([]);
      if (r.trace.some((l) => /epoch 2: .*"stale":[1-9]/.test(l))) refusedUnderFence++;
    }
    expect(violating).toEqual([]);
    // The fence landed under the in-flight epoch-2 fan-out in some of them (the point of the test).
    expect(refusedUnderFence).toBeGreaterThan(0);
  });

  it('regression: DC site lost → DIRECTOR_LOST → switchover drained → every branch on DR → failback → back on DC (S6 both ways)', async () => {
    // The lab (BR2 onboarded by secure shell: the operator reboots what ListSshOnboardedCpes
    // lists). The DC site is lost at +100 s for 200 s (director down, power off); DIRECTOR_LOST
    // after dr.directorLostAfterSec (60 s) starts the switchover (autoSwitchover), whose
    // FenceDcSite cannot tell the lost director PASSIVE and waits out dr.drainAfterSec (90 s
    // recorded unreachable); the failback is started at +400 s, once DC1 is UP again.
    const r = await runSchedule(31, {
      topology: lab,
      swarm: { ...calm, faultPhaseMs: 420_000, autoSwitchover: true },
      faults: [
        { at: 100_000, verb: 'site-lost', site: 'DC', forMs: 200_000, power: true },
        { at: 400_000, verb: 'dr', workflow: 'FailbackDrToDc', mode: 'planned' },
      ],
      traceLines: 5_000,
    });
    expect(summary(r)).toEqual([]);
    expect(r.stats.directorLost).toBe(1);
    expect(r.dr.map((d) => [d.workflow, d.outcome])).toEqual([
      ['SwitchoverDcToDr', 'SUCCEEDED'],
      ['FailbackDrToDc', 'SUCCEEDED'],
    ]);
    // Fenced by the drain: refused until the DC director had been recorded unreachable 90 s.
    expect(r.trace.some((l) => /FenceDcSite#\d+ failed: OldSiteNotFencedError/.test(l))).toBe(true);
    expect(r.trace.some((l) => /serving HA_DC\d → DR epoch/.test(l))).toBe(true);
    expect(r.trace.some((l) => /serving DR → HA_DC1 epoch/.test(l))).toBe(true);
    // S6 was judged (serving and branches, after the switchover and after the failback).
    expect(r.stats.s6Checked).toBe(4);
  });

  it('Meraki: the primary hub lost → the network fails over to the backup, fails back after the hold; its tags converge, one FAILOVER and one FAILBACK notice', async () => {
    const hubs = [
      { name: 'london', tagPrefix: 'london', trackedIp: '198.51.100.1' },
      { name: 'paris', tagPrefix: 'paris', trackedIp: '198.51.100.2' },
    ];
    const meraki = {
      organizations: [
        {
          id: 'org1',
          hubs,
          networks: [
            { id: 'N_1', name: 'Branch 1', tags: ['branch', 'london_primary_up', 'paris_backup_down'] },
          ],
        },
      ],
    };
    const loss = (at: number, pct: number): Fault => ({
      at,
      verb: 'path-loss',
      organizationId: 'org1',
      networkId: '*',
      hub: 'london',
      pct,
    });
    const r = await runSchedule(41, {
      meraki,
      swarm: { ...calm, faultPhaseMs: 300_000 },
      faults: [loss(10_000, 100), loss(250_000, 0)],
      traceLines: 2_000,
    });
    expect(summary(r)).toEqual([]);
    expect(r.kind).toBe('meraki');
    const notices = r.trace
      .filter((l) => /notice (FAILOVER|FAILBACK) org1#N_1/.test(l))
      .map((l) => l.split(' ')[2]);
    expect(notices).toEqual(['FAILOVER', 'FAILBACK']);
    const tunnel = r.trace.filter((l) => /meraki N_1: tunnel/.test(l)).map((l) => l.replace(/^\S+ /, ''));
    expect(tunnel).toEqual(['meraki N_1: tunnel london → paris', 'meraki N_1: tunnel paris → london']);
  });

  it('random schedules, zWAN and Meraki worlds: no invariant broken, Meraki tag swaps included', async () => {
    const from = Number(process.env.CHECK_FROM ?? 1);
    const count = Number(process.env.CHECK_SCHEDULES ?? 200);
    // Every shared director answer checked: plain JSON, and unchanged at the end of its schedule
    // (the 10,000 schedules of CI share them uncopied on the strength of this).
    const s = await runParallel(from, count, 1, { checkAnswers: true });
    // Meraki tag swaps are fenced on the group's epoch: no seed is a known gap any more.
    expect(s.failingSeeds).toEqual([]);
    expect(s.schedules).toBe(count);
    expect(s.meraki).toBeGreaterThan(count / 10);
  }, 600_000);

  // 4172: an older tag swap still in flight landed 17 ms before a newer fan-out reported success
  // (fixed by write claims; its deterministic race is in test/integration/meraki/tags.test.ts).
  // 2062: a fan-out that left a claimed network pending was taken by the harness for a success.
  it.each([103444, 104790, 104864, 106216, 107883, 108219, 4172, 2062])(
    'Meraki seed %i (once the known gap: an unfenced swap landing late, or success over a stale listing) breaks nothing',
    async (seed) => {
      const r = await runSchedule(seed);
      expect(r.kind).toBe('meraki');
      expect(summary(r)).toEqual([]);
    },
    120_000,
  );

  // 741362 (found by the checker on a fresh range): 0.5 s after a planned switchover stored epoch
  // 2 (fanned out through DR), the DC director accepted a fence raise (PUT …/epoch) at epoch 1 for
  // the group, and nothing else at epoch 1. The checker counted the fence raise as a stale action
  // across directors; it changes nothing in the world (S1 is about re-points, tag swaps and HA_STATE,
  // and any write at epoch 1 through DC would still be caught).
  it('regression: a late fence raise at an older epoch through the old director is no stale action (S1, seed 741362)', async () => {
    const r = await runSchedule(741362);
    expect(r.kind).toBe('zwan');
    expect(summary(r)).toEqual([]);
  }, 120_000);

  // 746728 (found by the checker on a fresh range): a failover invocation read g5.dc1 UP, the table
  // was restored (PITR) to a point where g5.dc1 was UNKNOWN, and its serving write landed 16 ms
  // later in the restored table: S2. The checker swapped the content under running invocations; a
  // real restore goes into a new table, and invocations running at the switch keep the old one
  // (./restored-table.ts). Not a controller bug: it failed the same way before this session's code.
  it('regression: an invocation running across a table restore writes the table it started with (S2, seed 746728)', async () => {
    const r = await runSchedule(746728);
    expect(r.kind).toBe('zwan');
    expect(r.faults.some((f) => f.verb === 'restore-table')).toBe(true);
    expect(summary(r)).toEqual([]);
  }, 120_000);

  it('no violation is a known gap any more: the former Meraki allowance (S1 weak form, S3a) fails like any other', () => {
    const former = [
      {
        invariant: 'S1',
        message:
          'org1#N_1 (Meraki): a tag swap moved N_1 onto N_1→paris after the epoch-3 fan-out onto N_1→london had completed',
      },
      {
        invariant: 'S3a',
        message: 'org1#N_1: the epoch-3 fan-out reported success, but N_1 is on N_1→paris, not N_1→london',
      },
    ];
    expect(isKnownGap('meraki', former)).toBe(false);
    expect(isKnownGap('meraki', former.slice(1))).toBe(false);
    expect(isKnownGap('zwan', former)).toBe(false);
    expect(isKnownGap('meraki', [])).toBe(false);
  });
});
