import { HttpError, page } from '../../../local/simulator/meraki/http.js';
import { MxLinks, Timeline, worse } from '../../../local/simulator/meraki/links.js';

describe('Meraki simulator links: timelines, the worse-of rule and the active uplink', () => {
  it('a timeline gives the last value set at or before a time', () => {
    const t = new Timeline(0);
    t.set(10, 1);
    t.set(20, 2);
    t.set(20, 3);
    expect([t.at(5), t.at(10), t.at(19), t.at(20), t.at(99)]).toEqual([0, 1, 1, 3, 3]);
  });

  it('worse: no data wins, then the higher loss; a lost link has no latency', () => {
    expect(worse({ lossPct: 10, latencyMs: 30 }, { lossPct: 40, latencyMs: 20 })).toEqual({
      lossPct: 40,
      latencyMs: 30,
    });
    expect(worse({ lossPct: null, latencyMs: null }, { lossPct: 40, latencyMs: 20 })).toEqual({
      lossPct: null,
      latencyMs: null,
    });
    expect(worse({ lossPct: 100, latencyMs: 5 }, { lossPct: 0, latencyMs: 20 })).toEqual({
      lossPct: 100,
      latencyMs: null,
    });
  });

  it('fails over after the delay to the first uplink up, skipping a failed one, and back at once', () => {
    const mx = new MxLinks(['wan1', 'wan2', 'cellular'], 10_000);
    mx.setDown('wan2', 0, true);
    mx.setDown('wan1', 1_000, true);
    expect(mx.active(10_999)).toEqual({ uplink: 'wan1', since: Number.NEGATIVE_INFINITY });
    expect(mx.active(11_000)).toEqual({ uplink: 'cellular', since: 11_000 });
    // wan2 back: preferred over cellular, at once.
    mx.setDown('wan2', 20_000, false);
    expect(mx.active(20_000)).toEqual({ uplink: 'wan2', since: 20_000 });
    // The deadline between two changes is exact even when read long after.
    mx.setLoss('wan2', 30_000, { lossPct: 100, latencyMs: null });
    mx.setDown('wan1', 45_000, false);
    expect(mx.active(45_000)).toEqual({ uplink: 'wan1', since: 45_000 });
    expect(() => new MxLinks([], 1)).toThrow(/uplinks=\[\]/);
    expect(() => new MxLinks(['wan7' as never], 1)).toThrow(/uplink="wan7"/);
  });
});

describe('Meraki simulator paging', () => {
  const items = Array.from({ length: 8 }, (_, i) => `id${i}`);
  const url = 'http://sim/api/v1/organizations/o1/things?networkIds%5B%5D=a';
  const at = (query: string) => page(items, (x) => x, new URLSearchParams(query), url, { min: 3, max: 300 });

  it('pages forwards and backwards with first, prev, next and last links, keeping the other parameters', () => {
    const first = at('perPage=3');
    expect(first.items).toEqual(['id0', 'id1', 'id2']);
    const link = first.headers.link ?? '';
    expect(link).toContain('networkIds%5B%5D=a');
    expect(link).toMatch(/startingAfter=id2>; rel=next/);
    expect(link).toMatch(/startingAfter=id4>; rel=last/);
    expect(link).not.toMatch(/rel=prev/);
    expect(at('perPage=3&startingAfter=id4').items).toEqual(['id5', 'id6', 'id7']);
    expect(at('perPage=3&startingAfter=id4').headers.link).not.toMatch(/rel=next/);
    expect(at('perPage=3&endingBefore=id5').items).toEqual(['id2', 'id3', 'id4']);
    expect(at('perPage=3&endingBefore=id1').items).toEqual(['id0']);
    expect(at('').items).toHaveLength(8);
  });

  it('refuses a page size out of range and an unknown token, naming them', () => {
    expect(() => at('perPage=2')).toThrow(HttpError);
    expect(() => at('perPage=2')).toThrow(/'perPage' must be an integer from 3 to 300, not "2"/);
    expect(() => at('startingAfter=zz')).toThrow(/'startingAfter' is not a valid page token: "zz"/);
  });
});
