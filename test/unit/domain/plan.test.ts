import { branchCurrentTarget } from '../../../shared/domain/inventory.js';
import { planRepoints } from '../../../shared/domain/plan.js';
import { NotFoundError } from '../../../shared/errors.js';
import { chennaiGroup, makeBranch } from './fixtures.js';

describe('planRepoints', () => {
  const group = { ...chennaiGroup(), branches: [makeBranch('BR1', 'HA_DC1'), makeBranch('BR2', 'HA_DC2')] };
  const current = Object.fromEntries(group.branches.map((b) => [b.id, branchCurrentTarget(b, group)]));

  it('gives one action per branch not on the serving concentrator, with its tunnel IDs', () => {
    expect(current).toEqual({ BR1: 'HA_DC1', BR2: 'HA_DC2' });
    expect(planRepoints(group, 'HA_DC2', 5, current)).toEqual([
      {
        groupKey: 't1#Chennai',
        tenantId: 't1',
        branchId: 'BR1',
        targetId: 'HA_DC2',
        fromId: 'HA_DC1',
        epoch: 5,
        tunnels: [{ haTunnelIdentifier: 'T1', tunnelId: 'key-HA_DC2' }],
      },
    ]);
  });

  it('re-points every branch to DR, and branches with an unknown target too', () => {
    const actions = planRepoints(group, 'DR', 6, new Map([['BR1', 'HA_DC1']]));
    expect(actions.map((a) => [a.branchId, a.fromId, a.tunnels[0]?.tunnelId])).toEqual([
      ['BR1', 'HA_DC1', 'key-DR'],
      ['BR2', undefined, 'key-DR'],
    ]);
    expect(actions[1]).not.toHaveProperty('fromId');
  });

  it('gives none when every branch is already on the serving concentrator', () => {
    expect(planRepoints(group, 'HA_DC1', 5, { BR1: 'HA_DC1', BR2: 'HA_DC1' })).toEqual([]);
  });

  it('carries one entry per HA tunnel identifier', () => {
    const dc2 = group.candidates[1]!;
    const g2 = {
      ...group,
      candidates: [
        group.candidates[0]!,
        {
          ...dc2,
          tunnels: [
            ...dc2.tunnels,
            { name: 'IPSEC01', haTunnelIdentifier: 'T2', tunnelId: 'k2', state: 'CREATED' as const },
          ],
        },
      ],
      branches: [
        {
          ...group.branches[0]!,
          tunnels: [
            ...group.branches[0]!.tunnels,
            { name: 'IPSEC01', haTunnelIdentifier: 'T2', tunnelId: 'old', state: 'ESTABLISHED' as const },
          ],
        },
      ],
    };
    expect(planRepoints(g2, 'HA_DC2', 1, {})[0]!.tunnels).toEqual([
      { haTunnelIdentifier: 'T1', tunnelId: 'key-HA_DC2' },
      { haTunnelIdentifier: 'T2', tunnelId: 'k2' },
    ]);
  });

  it('refuses a serving id that is not a candidate of the group, naming it', () => {
    expect(() => planRepoints(group, 'HA_DC9', 5, current)).toThrow(NotFoundError);
    expect(() => planRepoints(group, 'HA_DC9', 5, current)).toThrow(/"HA_DC9".*HA_DC1, HA_DC2, DR/);
  });
});
