/**
 * The third-party VPN peers checked against the hubs, against the Meraki simulator over HTTP:
 * the default simulator passes, each injected mismatch is a ConfigError naming hub, peer and tag.
 */
import { jest } from '@jest/globals';
import { hubStateTags } from '../../../shared/domain/meraki-tags.js';
import { ConfigError } from '../../../shared/errors.js';
import { generateOrganization } from '../../../local/simulator/meraki/generate.js';
import type { SimPeer } from '../../../local/simulator/meraki/types.js';
import { HUBS, adapterOn, startSim, type TestSim } from './health-fixtures.js';

jest.setTimeout(60_000);

const [LONDON, PARIS] = HUBS.map((h, i) => ({
  name: h.name,
  publicIp: h.trackedIp,
  networkTags: [hubStateTags(h, i).up],
})) as [SimPeer, SimPeer];

describe('Meraki peer check', () => {
  const sims: TestSim[] = [];
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.close()));
  });
  const start = async () => {
    const sim = await startSim([generateOrganization({ id: 'o1', networks: 2 })]);
    sims.push(sim);
    return sim;
  };
  const failure = async (sim: TestSim, peers: SimPeer[], over: Parameters<typeof adapterOn>[1] = {}) => {
    sim.setPeers('o1', peers);
    const error = await adapterOn(sim, over)
      .d.checkPeers('o1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  };

  it('passes on the default simulator: each hub with its peer', async () => {
    const sim = await start();
    expect(await adapterOn(sim).d.checkPeers('o1')).toEqual({
      organizationId: 'o1',
      hubs: [
        { hub: 'london', peer: 'london' },
        { hub: 'paris', peer: 'paris' },
      ],
    });
    expect(
      sim.log.filter((e) => e.path === '/organizations/o1/appliance/vpn/thirdPartyVPNPeers'),
    ).toHaveLength(1);
  });

  it("names hub, peer and tag: another hub's _up tag on a peer", async () => {
    const sim = await start();
    const message = await failure(sim, [LONDON, { ...PARIS, networkTags: ['london_primary_up'] }]);
    expect(message).toMatch(/^Meraki third-party VPN peers of organization o1 is invalid: /);
    expect(message).toContain(
      'peers.paris.networkTags=["london_primary_up"]: expected hub paris\'s tag paris_backup_up (networks carrying it connect to this peer) [hub paris, peer paris, tag paris_backup_up]',
    );
    expect(message).toMatch(/\[hub paris, peer paris, tag london_primary_up\]/);
    expect(message).toMatch(/\[hub london, peer paris, tag london_primary_up\]/);
  });

  it('names a wrong public IP, a missing peer, and a peer connecting all networks', async () => {
    const sim = await start();
    expect(await failure(sim, [LONDON, { ...PARIS, publicIp: '203.0.113.77' }])).toContain(
      'peers.paris.publicIp="203.0.113.77": expected hub paris\'s trackedIp 198.51.100.10 [hub paris, peer paris]',
    );
    expect(await failure(sim, [LONDON])).toMatch(
      /hubs\.paris\.peer=\["london"\]: expected exactly one third-party VPN peer named "paris" for hub paris/,
    );
    expect(await failure(sim, [LONDON, { ...PARIS, networkTags: ['all'] }])).toMatch(
      /expected only the networks tagged paris_backup_up, not all \[hub paris, peer paris, tag all\]/,
    );
  });

  it("finds a hub's peer by its configured peerName", async () => {
    const sim = await start();
    sim.setPeers('o1', [LONDON, { ...PARIS, name: 'Paris DC' }]);
    const hubs = [HUBS[0], { ...HUBS[1], peerName: 'Paris DC' }];
    expect((await adapterOn(sim, { hubs }).d.checkPeers('o1')).hubs[1]).toEqual({
      hub: 'paris',
      peer: 'Paris DC',
    });
    expect(await failure(sim, [LONDON, { ...PARIS, name: 'Paris DC' }])).toMatch(/hubs\.paris\.peer=/);
  });
});
