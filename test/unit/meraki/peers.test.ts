/**
 * The third-party VPN peers checked against the hubs (shared/director/meraki/peers.ts) and what the
 * VPN statuses say a branch reaches (shared/director/meraki/vpn.ts): pure functions.
 */
import { describe, expect, it } from '@jest/globals';
import type { MerakiHub } from '../../../shared/director/meraki/config.js';
import { peerProblems, type PeerView } from '../../../shared/director/meraki/peers.js';
import { hubOfPeer, notReachedReason, reachOf } from '../../../shared/director/meraki/vpn.js';

const HUBS: MerakiHub[] = [
  { name: 'london', tagPrefix: 'london', trackedIp: '198.51.100.1', trustedWithoutTracking: false },
  { name: 'paris', tagPrefix: 'paris', trackedIp: '198.51.100.2', trustedWithoutTracking: false },
];
const GOOD: PeerView[] = [
  { name: 'london', publicIp: '198.51.100.1', networkTags: ['london_primary_up'] },
  { name: 'paris', publicIp: '198.51.100.2', networkTags: ['paris_backup_up'] },
];

describe('peer check', () => {
  it('passes when each hub has one peer with its own _up tag and its tracked IP (other peers and tags allowed)', () => {
    expect(
      peerProblems(
        [
          { ...GOOD[0]!, networkTags: ['london_primary_up', 'lab'] },
          GOOD[1]!,
          { name: 'aws', publicIp: '203.0.113.9', networkTags: ['all'] },
        ],
        HUBS,
      ),
    ).toEqual([]);
  });

  it("names hub, peer and tag: a peer carrying another hub's _up tag, or a _down tag", () => {
    const problems = peerProblems(
      [
        { ...GOOD[0]!, networkTags: ['london_primary_up', 'paris_backup_up'] },
        { ...GOOD[1]!, networkTags: ['paris_backup_down'] },
      ],
      HUBS,
    );
    expect(problems.map((p) => [p.hub, p.peer, p.tag, p.field])).toEqual([
      ['london', 'london', 'paris_backup_up', 'peers.london.networkTags'],
      ['paris', 'paris', 'paris_backup_up', 'peers.paris.networkTags'],
      ['paris', 'paris', 'paris_backup_down', 'peers.paris.networkTags'],
      ['paris', 'london', 'paris_backup_up', 'peers.london.networkTags'],
    ]);
    expect(problems[0]?.expected).toMatch(/paris_backup_up is hub paris's _up tag/);
    expect(problems[1]?.expected).toMatch(/hub paris's tag paris_backup_up/);
  });

  it('names a missing peer, a duplicate, a wrong public IP, and networkTags absent (all)', () => {
    expect(peerProblems([GOOD[0]!], HUBS).map((p) => [p.hub, p.field, p.value])).toEqual([
      ['paris', 'hubs.paris.peer', ['london']],
    ]);
    expect(peerProblems([...GOOD, GOOD[1]!], HUBS).map((p) => [p.hub, p.value])).toEqual([
      ['paris', '2 peers named paris'],
    ]);
    expect(
      peerProblems([GOOD[0]!, { ...GOOD[1]!, publicIp: '198.51.100.99' }], HUBS).map((p) => [
        p.peer,
        p.field,
        p.value,
      ]),
    ).toEqual([['paris', 'peers.paris.publicIp', '198.51.100.99']]);
    const all = peerProblems([GOOD[0]!, { name: 'paris', publicIp: '198.51.100.2' }], HUBS);
    expect(all.map((p) => [p.hub, p.tag])).toEqual([
      ['paris', 'paris_backup_up'],
      ['paris', 'all'],
    ]);
  });

  it("finds a hub's peer by its configured peerName", () => {
    const hubs = [HUBS[0]!, { ...HUBS[1]!, peerName: 'Paris DC' }];
    expect(peerProblems([GOOD[0]!, { ...GOOD[1]!, name: 'Paris DC' }], hubs)).toEqual([]);
    // Named otherwise: no peer for the hub, and the peer named like it carries its tag.
    expect(peerProblems(GOOD, hubs).map((p) => [p.field, p.peer])).toEqual([
      ['hubs.paris.peer', undefined],
      ['peers.paris.networkTags', 'paris'],
    ]);
  });
});

describe('what a branch reaches', () => {
  const status = (peers: { name?: string; publicIp?: string; reachability?: string }[]) => ({
    networkId: 'N_1',
    thirdPartyVpnPeers: peers,
  });

  it('a hub by peer name, else by public IP; reachable ones in failover order', () => {
    expect(hubOfPeer({ name: 'Paris', publicIp: '198.51.100.2' }, HUBS)?.name).toBe('paris');
    expect(hubOfPeer({ name: 'other', publicIp: '203.0.113.1' }, HUBS)).toBeUndefined();
    const reach = reachOf(
      status([
        { name: 'paris', reachability: 'reachable' },
        { name: 'london', reachability: 'unreachable' },
        { name: 'aws', publicIp: '203.0.113.9', reachability: 'reachable' },
      ]),
      'N_1',
      HUBS,
    );
    expect(reach).toEqual({
      networkId: 'N_1',
      hub: 'paris',
      reachable: ['paris'],
      listed: ['london', 'paris'],
      inStatuses: true,
    });
  });

  it('says why a hub is not reached', () => {
    const none = reachOf(status([{ name: 'london', reachability: 'unreachable' }]), 'N_1', HUBS);
    expect(notReachedReason(none, 'london')).toMatch(
      /london's VPN peer is listed for network N_1 but unreachable/,
    );
    expect(notReachedReason(none, 'paris')).toMatch(/paris's VPN peer is not listed for network N_1/);
    const other = reachOf(status([{ name: 'london', reachability: 'reachable' }]), 'N_1', HUBS);
    expect(notReachedReason(other, 'paris')).toBe('network N_1 reaches hub london instead of paris');
    expect(notReachedReason(reachOf(undefined, 'N_9', HUBS), 'paris')).toMatch(
      /N_9 is not in the VPN statuses/,
    );
  });
});
