import fc from 'fast-check';
import {
  currentHubFromTags,
  hasHubTags,
  hubRole,
  hubStateTags,
  hubTagState,
  retagForHub,
  type TagHub,
} from '../../../shared/domain/meraki-tags.js';

const london: TagHub = { name: 'london', tagPrefix: 'london' };
const paris: TagHub = { name: 'paris', tagPrefix: 'paris' };
const dublin: TagHub = { name: 'dublin', tagPrefix: 'dub' };
const two = [london, paris];
const three = [london, paris, dublin];

describe('hub state tag naming', () => {
  it('keeps the reference names for the first two hubs and numbers the rest', () => {
    expect(hubStateTags(london, 0)).toEqual({ up: 'london_primary_up', down: 'london_primary_down' });
    expect(hubStateTags(paris, 1)).toEqual({ up: 'paris_backup_up', down: 'paris_backup_down' });
    expect(hubStateTags(dublin, 2)).toEqual({ up: 'dub_backup2_up', down: 'dub_backup2_down' });
    expect(hubRole(5)).toBe('backup5');
    expect(() => hubRole(-1)).toThrow(RangeError);
  });
});

describe('retagForHub', () => {
  it('swaps primary to backup in place, keeping unrelated tags and their order', () => {
    const before = ['branch', 'london_primary_up', 'emea', 'paris_backup_down', 'zz'];
    expect(retagForHub(before, two, 'paris')).toEqual([
      'branch',
      'london_primary_down',
      'emea',
      'paris_backup_up',
      'zz',
    ]);
    expect(retagForHub(retagForHub(before, two, 'paris'), two, 'london')).toEqual(before);
  });

  it('leaves look-alike tags untouched (no substring matching)', () => {
    const before = [
      'london_primary_up_old',
      'xlondon_primary_up',
      'LONDON_PRIMARY_UP',
      'london_primary_up',
      'paris_backup_downtime',
      'paris_backup_down',
    ];
    const after = retagForHub(before, two, 'paris');
    expect(after).toEqual([
      'london_primary_up_old',
      'xlondon_primary_up',
      'LONDON_PRIMARY_UP',
      'london_primary_down',
      'paris_backup_downtime',
      'paris_backup_up',
    ]);
    expect(currentHubFromTags(after, two)).toBe('paris');
  });

  it('adds missing state tags in hub order and drops duplicate or contradictory ones', () => {
    expect(retagForHub(['a'], three, 'dublin')).toEqual([
      'a',
      'london_primary_down',
      'paris_backup_down',
      'dub_backup2_up',
    ]);
    expect(
      retagForHub(['london_primary_up', 'x', 'london_primary_down', 'paris_backup_up'], two, 'london'),
    ).toEqual(['london_primary_up', 'x', 'paris_backup_down']);
  });

  it('rejects an unknown hub naming the value and the choices', () => {
    expect(() => retagForHub([], two, 'berlin')).toThrow(/targetHub="berlin".*"london", "paris"/);
  });
});

describe('reading the state', () => {
  it('finds the one hub that is up, and nothing when ambiguous or absent', () => {
    expect(currentHubFromTags(['london_primary_up', 'paris_backup_down'], two)).toBe('london');
    expect(currentHubFromTags(['london_primary_up', 'paris_backup_up'], two)).toBeUndefined();
    expect(currentHubFromTags(['london_primary_up_old'], two)).toBeUndefined();
    expect(hubTagState(['paris_backup_down'], three)).toEqual({
      up: [],
      down: ['paris'],
      missing: ['london', 'dublin'],
    });
    expect(hasHubTags(['xlondon_primary_up'], two)).toBe(false);
    expect(hasHubTags(['dub_backup2_down'], three)).toBe(true);
  });
});

describe('properties', () => {
  const prefix = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);
  const hubsArb = fc
    .uniqueArray(prefix, { minLength: 2, maxLength: 5 })
    .map((ps) => ps.map((p) => ({ name: `hub-${p}`, tagPrefix: p })));
  const scenario = hubsArb.chain((hubs) => {
    const stateTags = hubs.flatMap((h, i) => {
      const t = hubStateTags(h, i);
      return [t.up, t.down];
    });
    // Unrelated tags, including look-alikes built from the state tags.
    const unrelated = fc.oneof(
      fc.stringMatching(/^[a-z0-9_]{1,12}$/),
      fc.constantFrom(...stateTags).map((t) => `${t}_old`),
      fc.constantFrom(...stateTags).map((t) => `x${t}`),
    );
    return fc.record({
      hubs: fc.constant(hubs),
      tags: fc.array(fc.oneof(unrelated, fc.constantFrom(...stateTags)), { maxLength: 12 }),
      target: fc.constantFrom(...hubs.map((h) => h.name)),
    });
  });
  const isStateTag = (hubs: TagHub[], t: string): boolean =>
    hubs.some((h, i) => Object.values(hubStateTags(h, i)).includes(t));

  it('preserves every unrelated tag, in order', () => {
    fc.assert(
      fc.property(scenario, ({ hubs, tags, target }) => {
        const after = retagForHub(tags, hubs, target);
        expect(after.filter((t) => !isStateTag(hubs, t))).toEqual(tags.filter((t) => !isStateTag(hubs, t)));
      }),
    );
  });

  it('leaves exactly one _up tag, the target hub, and one state tag per hub', () => {
    fc.assert(
      fc.property(scenario, ({ hubs, tags, target }) => {
        const after = retagForHub(tags, hubs, target);
        const state = hubTagState(after, hubs);
        expect(state.up).toEqual([target]);
        expect(state.missing).toEqual([]);
        expect(after.filter((t) => isStateTag(hubs, t))).toHaveLength(hubs.length);
        expect(currentHubFromTags(after, hubs)).toBe(target);
      }),
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(scenario, ({ hubs, tags, target }) => {
        const once = retagForHub(tags, hubs, target);
        expect(retagForHub(once, hubs, target)).toEqual(once);
      }),
    );
  });
});
