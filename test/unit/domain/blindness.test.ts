import fc from 'fast-check';
import { assessBlindness, type DirectorReach } from '../../../shared/domain/blindness.js';
import { elect } from '../../../shared/domain/election.js';
import type { Health, SiteName, SiteRole } from '../../../shared/domain/model.js';
import { chennaiGroup } from './fixtures.js';

const DC_ACTIVE: Record<SiteName, SiteRole> = { DC: 'ACTIVE', DR: 'PASSIVE' };
const DR_ACTIVE: Record<SiteName, SiteRole> = { DC: 'PASSIVE', DR: 'ACTIVE' };
const reach = (dc: boolean, dr: boolean): DirectorReach[] => [
  { site: 'DC', reachable: dc, since: 0 },
  { site: 'DR', reachable: dr, since: 0 },
];

describe('assessBlindness: the four cases', () => {
  it('DC director unreachable while DC is ACTIVE: the actor is frozen, no MONITOR_BLIND', () => {
    const b = assessBlindness(reach(false, true), DC_ACTIVE);
    expect(b).toMatchObject({
      case: 'active-director-unreachable',
      monitorBlind: false,
      actingSite: 'DC',
      actingFrozen: true,
      frozenSites: ['DC'],
    });
    expect(b.explanation).toMatch(/DIRECTOR_LOST/);
  });

  it('after a switchover the DC director unreachable blocks nothing (DC is PASSIVE)', () => {
    expect(assessBlindness(reach(false, true), DR_ACTIVE)).toMatchObject({
      case: 'passive-director-unreachable',
      monitorBlind: false,
      actingSite: 'DR',
      actingFrozen: false,
      frozenSites: [],
    });
  });

  it('the standby DR director unreachable while DC is ACTIVE freezes the DR candidates only', () => {
    expect(assessBlindness(reach(true, false), DC_ACTIVE)).toMatchObject({
      case: 'standby-director-unreachable',
      monitorBlind: false,
      actingFrozen: false,
      frozenSites: ['DR'],
    });
  });

  it('both unreachable: MONITOR_BLIND, whatever the roles', () => {
    for (const roles of [DC_ACTIVE, DR_ACTIVE])
      expect(assessBlindness(reach(false, false), roles)).toMatchObject({
        case: 'all-directors-unreachable',
        monitorBlind: true,
      });
  });

  it('one director only (the Meraki Dashboard as DC): unreachable is MONITOR_BLIND', () => {
    expect(assessBlindness([{ site: 'DC', reachable: false }], DC_ACTIVE, ['DC'])).toMatchObject({
      case: 'all-directors-unreachable',
      monitorBlind: true,
    });
  });

  it('a mass DOWN latched by the health check is MONITOR_BLIND with its reason', () => {
    const b = assessBlindness(
      [{ site: 'DC', reachable: true, monitorBlind: true, monitorBlindReason: '5 of 8 went DOWN' }],
      DC_ACTIVE,
    );
    expect(b).toMatchObject({ case: 'mass-down', monitorBlind: true });
    expect(b.explanation).toMatch(/5 of 8 went DOWN/);
  });
});

describe('election with frozen sites (property)', () => {
  const group = chennaiGroup(true);
  const healthArb = fc.constantFrom<Health>('UP', 'DOWN', 'UNKNOWN');
  it('never changes serving while the actor is frozen, never leaves or chooses a frozen candidate, never elects a non-UP one', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.array(healthArb, { minLength: 4, maxLength: 4 }),
        fc.option(fc.constantFrom(...group.candidates.map((c) => c.id)), { nil: undefined }),
        (dc, dr, switched, healths, serving) => {
          const roles = switched ? DR_ACTIVE : DC_ACTIVE;
          const blindness = assessBlindness(reach(dc, dr), roles);
          const health = new Map(group.candidates.map((c, i) => [c.id, healths[i] ?? 'UNKNOWN']));
          const r = elect({
            group,
            health,
            siteRoles: { DC: roles.DC, DR: roles.DC === 'ACTIVE' ? 'ACTIVE' : roles.DR },
            current: { epoch: 3, ...(serving ? { servingId: serving } : {}) },
            now: 0,
            preempt: true,
            monitorBlind: blindness.monitorBlind,
            frozen: {
              sites: blindness.frozenSites,
              acting: blindness.actingFrozen,
              reason: blindness.explanation,
            },
          });
          if (blindness.actingFrozen || blindness.monitorBlind) expect(r.changed).toBe(false);
          if (!r.changed) return;
          const from = group.candidates.find((c) => c.id === serving);
          const to = group.candidates.find((c) => c.id === r.servingId);
          expect(health.get(r.servingId ?? '')).toBe('UP');
          expect(blindness.frozenSites).not.toContain(to?.site);
          if (from && !(switched && from.site === 'DC'))
            expect(blindness.frozenSites).not.toContain(from.site);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
