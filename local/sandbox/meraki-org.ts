/** The sandbox's simulated Meraki organization (a module of its own: the flag parser checks fault scripts against it). */
import type { SimOrganization } from '../simulator/meraki/server.js';

/** The sandbox's organization: two hubs in the reference's style and three branch networks. */
export const MERAKI_SANDBOX_ORG: SimOrganization = {
  id: 'sandbox-org',
  name: 'Sandbox organization',
  hubs: [
    { name: 'london', tagPrefix: 'london', trackedIp: '198.51.100.1' },
    { name: 'paris', tagPrefix: 'paris', trackedIp: '198.51.100.2' },
  ],
  networks: [1, 2, 3].map((i) => ({
    id: `N_${i}`,
    name: `Branch ${i}`,
    tags: ['branch', 'london_primary_up', 'paris_backup_down'],
    // Branch 3 tracks only its primary: paris stays UNKNOWN from there (never failed over onto).
    ...(i === 3 ? { trackedHubs: ['london'] } : {}),
  })),
};
