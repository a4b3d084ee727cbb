/** Shared arrangement of the failover unit tests: fake director + in-memory store + recorders. */
import { groupKey } from '../../../shared/domain/model.js';
import { MemoryFailoverStore } from '../../../shared/failover/memory-store.js';
import type { FailoverDeps, FailoverSettings } from '../../../shared/failover/ports.js';
import type { LocalPublisher } from '../../../shared/notify/local.js';
import type { Notice } from '../../../shared/notify/port.js';
import type { CountingMetricSink } from '../../../shared/observability.js';
import { testFailoverDeps } from '../../helpers/failover-deps.js';
import { FakeDirector, topology, type HubSpec } from './fake-director.js';

export const KEY = groupKey('t1', 'Chennai');

/** DC1 (DC ACTIVE), DC2 (DC PASSIVE), DR1 (DR ACTIVE). */
export const HUBS: HubSpec[] = [
  { id: 'DC1', site: 'DC', haState: 'ACTIVE' },
  { id: 'DC2', site: 'DC', haState: 'PASSIVE' },
  { id: 'DR1', site: 'DR', haState: 'ACTIVE' },
];

export interface Harness {
  deps: FailoverDeps;
  store: MemoryFailoverStore;
  director: FakeDirector;
  drDirector: FakeDirector;
  published: LocalPublisher;
  audited: Notice[];
  metrics: CountingMetricSink;
  clock: { now: number };
}

/** A group of `branches` branches established on `on`, every hub UP unless told otherwise. */
export function harness(
  opts: { branches?: number; on?: string; hubs?: HubSpec[]; settings?: Partial<FailoverSettings> } = {},
): Harness {
  const hubs = opts.hubs ?? HUBS;
  const cpes = topology({
    hubs,
    branches: opts.branches ?? 5,
    ...(opts.on !== undefined ? { on: opts.on } : { on: 'DC1' }),
  });
  const director = new FakeDirector(cpes, 'DC');
  const drDirector = new FakeDirector(cpes, 'DR'); // the restored DR director sees the same CPEs
  const store = new MemoryFailoverStore();
  for (const h of hubs) store.setHealth(KEY, h.id, 'UP', 1);
  // Every audit event: the notifier's, and those written once from a group's outbox.
  const audited: Notice[] = [];
  const writeAuditOnce = store.writeAuditOnce.bind(store);
  store.writeAuditOnce = async (event, dedupId) => {
    const created = await writeAuditOnce(event, dedupId);
    if (created) audited.push(event);
    return created;
  };
  const clock = { now: 1_000_000 };
  const { deps, published, metrics } = testFailoverDeps({
    store,
    directors: { DC: director, DR: drDirector },
    audit: { writeAudit: async (n) => void audited.push(n) },
    tenants: ['t1'],
    settings: { driftRequestsPerSecond: 1000, ...opts.settings },
    now: () => clock.now,
  });
  return { deps, store, director, drDirector, published, audited, metrics, clock };
}

/** Kinds of the notices published so far. */
export function kinds(h: Harness): string[] {
  return h.published.notices.map((n) => n.kind);
}

/** Store the group's decision (`servingId` at `epoch`, made `changedAgoMs` ago) as a first write. */
export async function storeDecision(
  h: Harness,
  servingId: string,
  epoch: number,
  changedAgoMs = 0,
): Promise<void> {
  const won = await h.store.compareAndSetServing(KEY, 0, {
    tenantId: 't1',
    haName: 'Chennai',
    servingId,
    epoch,
    reason: 'test decision',
    alarms: [],
    changedAt: h.clock.now - changedAgoMs,
  });
  if (!won) throw new Error(`the group ${KEY} already had a decision`);
}
