/**
 * The zWAN simulator's broken standby tunnel (the rehearsal's fault): re-pointed onto the named
 * concentrator, that one branch's tunnels stay CREATED, on both ends; other branches and other
 * concentrators are untouched; bad ids change nothing; heal clears it.
 */
import { NotFoundError, ValidationError } from '../../../shared/errors.js';
import { createZwanSimulator, type ZwanSimulator } from '../../../local/simulator/index.js';

let sim: ZwanSimulator;
beforeEach(async () => {
  sim = await createZwanSimulator({ listen: false });
});
afterEach(() => sim.close());

/** Each CPE's first tunnel state as a director lists it. */
function states(): Record<string, string | undefined> {
  return Object.fromEntries(
    ['HA_DC1', 'HA_DC2', 'DR', 'BR1', 'BR2'].map((id) => {
      const c = sim.world.mustGet(id);
      const t = c.tunnels[0];
      return [id, t ? sim.world.tunnelState(c, t) : undefined];
    }),
  );
}

describe('breakTunnel', () => {
  it("keeps one branch's tunnels CREATED on that concentrator only", () => {
    sim.faults.breakTunnel('BR2', 'HA_DC2');
    // Still on HA_DC1: nothing changes.
    expect(states()).toEqual({
      HA_DC1: 'ESTABLISHED',
      HA_DC2: 'CREATED',
      DR: 'CREATED',
      BR1: 'ESTABLISHED',
      BR2: 'ESTABLISHED',
    });

    sim.world.driftBranch('BR2', 'HA_DC2');
    expect(sim.world.currentTarget('BR2')).toBe('HA_DC2');
    expect(states()).toMatchObject({ HA_DC2: 'CREATED', BR2: 'CREATED' });

    sim.world.driftBranch('BR1', 'HA_DC2');
    expect(states()).toMatchObject({ HA_DC2: 'ESTABLISHED', BR1: 'ESTABLISHED', BR2: 'CREATED' });

    // Onto another concentrator the branch's tunnel works.
    sim.world.driftBranch('BR2', 'DR');
    expect(states()).toMatchObject({ DR: 'ESTABLISHED', BR2: 'ESTABLISHED' });

    sim.world.driftBranch('BR2', 'HA_DC2');
    sim.faults.heal();
    expect(states()).toMatchObject({ BR2: 'ESTABLISHED' });
  });

  it('refuses a concentrator as the branch, a branch as the concentrator, and unknown ids, changing nothing', () => {
    expect(() => sim.faults.breakTunnel('HA_DC1', 'HA_DC2')).toThrow(ValidationError);
    expect(() => sim.faults.breakTunnel('BR1', 'BR2')).toThrow(
      /concentratorId="BR2": expected a concentrator of lab-tenant#Chennai/,
    );
    expect(() => sim.faults.breakTunnel('BR9', 'HA_DC2')).toThrow(NotFoundError);
    expect(sim.world.brokenTunnels.size).toBe(0);
  });
});
