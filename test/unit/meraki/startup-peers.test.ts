/**
 * The peer check before a container's listings (shared/health/meraki-peers.ts), with an
 * in-memory director: a pass is kept, a mismatch is an error and a metric each time it is tried,
 * a check that could not run is a warning, and both are tried again before the next listing.
 */
import { describe, expect, it } from '@jest/globals';
import type { Director } from '../../../shared/director/port.js';
import { ConfigError, DirectorUnavailableError } from '../../../shared/errors.js';
import { PEER_CHECK_FAILED_METRIC, withStartupPeerCheck } from '../../../shared/health/meraki-peers.js';
import { CountingMetricSink } from '../../../shared/observability.js';

function setup(answers: (Error | undefined)[]) {
  const calls: string[] = [];
  const lines: [string, string][] = [];
  const log = {
    debug() {},
    info: (m: string) => lines.push(['info', m]),
    warn: (m: string) => lines.push(['warn', m]),
    error: (m: string) => lines.push(['error', m]),
  };
  const inner = {
    kind: 'meraki',
    async listCpes(tenantId: string) {
      calls.push(`list ${tenantId}`);
      return [];
    },
    async checkPeers(tenantId: string) {
      calls.push(`check ${tenantId}`);
      const answer = answers.shift();
      if (answer) throw answer;
      return {};
    },
  } as unknown as Director;
  const metrics = new CountingMetricSink();
  return { d: withStartupPeerCheck(inner, ['o1'], log, metrics), calls, lines, metrics, inner };
}

describe('the Meraki peer check before listings', () => {
  it('a pass is kept for the container: checked before the first listing only', async () => {
    const { d, calls, lines } = setup([undefined]);
    await d.listCpes('o1');
    await d.listCpes('o1');
    await d.listCpes('other'); // not a configured organization: no check
    expect(calls).toEqual(['check o1', 'list o1', 'list o1', 'list other']);
    expect(lines).toEqual([['info', 'Meraki third-party VPN peers match the hubs']]);
  });

  it('a mismatch is an error and a metric; a check that could not run is a warning; both are tried again', async () => {
    const mismatch = new ConfigError('peers', [
      { path: 'peers.paris.networkTags', value: [], expected: 'x' },
    ]);
    const { d, calls, lines, metrics } = setup([mismatch, new DirectorUnavailableError('down'), undefined]);
    for (let i = 0; i < 4; i++) await d.listCpes('o1');
    expect(calls.filter((c) => c.startsWith('check'))).toHaveLength(3);
    expect(calls.filter((c) => c.startsWith('list'))).toHaveLength(4); // never blocks a listing
    expect(lines.map(([level]) => level)).toEqual(['error', 'warn', 'info']);
    expect(metrics.totals.get(PEER_CHECK_FAILED_METRIC)).toBe(1);
  });

  it('a director without a peer check is returned as it is', () => {
    const plain = { kind: 'zwan', listCpes: async () => [] } as unknown as Director;
    expect(withStartupPeerCheck(plain, ['o1'], console, new CountingMetricSink())).toBe(plain);
  });
});
