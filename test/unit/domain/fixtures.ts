/** Shared builders for the domain unit tests: the reference's Chennai lab as an HaGroup. */
import type { Branch, CandidateSlot, Concentrator, HaGroup } from '../../../shared/domain/model.js';

/** A concentrator of group `t1#Chennai` in `slot`, with one IPSEC00 tunnel (identifier T1). */
export function makeConcentrator(id: string, slot: CandidateSlot, port: number): Concentrator {
  const [site, haState] = slot.split('/') as [Concentrator['site'], Concentrator['haState']];
  return {
    kind: 'concentrator',
    id,
    name: id,
    tenantId: 't1',
    haName: 'Chennai',
    site,
    haState,
    slot,
    wans: [{ wan: 'WAN00', publicIp: '122.60.1.10', publicPort: port }],
    lans: [],
    tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: 'T1', tunnelId: `key-${id}`, state: 'CREATED' }],
  };
}

/** A branch with IPSEC00 established on the concentrator `onId`. */
export function makeBranch(id: string, onId: string): Branch {
  return {
    kind: 'branch',
    id,
    name: id,
    tenantId: 't1',
    haName: 'Chennai',
    wans: [],
    lans: [],
    tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: 'T1', tunnelId: `key-${onId}`, state: 'ESTABLISHED' }],
  };
}

/** HA_DC1 (DC/ACTIVE), HA_DC2 (DC/PASSIVE), DR (DR/ACTIVE), optionally DR2 (DR/PASSIVE); BR1, BR2 on HA_DC1. */
export function chennaiGroup(withDrPassive = false): HaGroup {
  const candidates = [
    makeConcentrator('HA_DC1', 'DC/ACTIVE', 30000),
    makeConcentrator('HA_DC2', 'DC/PASSIVE', 40000),
    makeConcentrator('DR', 'DR/ACTIVE', 50000),
    ...(withDrPassive ? [makeConcentrator('DR2', 'DR/PASSIVE', 50001)] : []),
  ];
  return {
    tenantId: 't1',
    haName: 'Chennai',
    key: 't1#Chennai',
    candidates,
    branches: [makeBranch('BR1', 'HA_DC1'), makeBranch('BR2', 'HA_DC1')],
  };
}
