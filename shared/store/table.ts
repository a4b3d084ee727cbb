/**
 * The one state table (single-table design), described once: the CDK construct, the sandbox and
 * the integration tests all create it from this. Every item has `pk`, `sk` and `type`; the stream
 * filter of the failover function matches on `type`.
 *
 * | item              | pk                    | sk                     | notes                              |
 * | ----------------- | --------------------- | ---------------------- | ---------------------------------- |
 * | group             | `GROUPS`              | `<groupKey>`           | serving, epoch, pin, alarms        |
 * | CPE health        | `HEALTH#<groupKey>`   | `<targetId>`           | hysteresis state, `version`        |
 * | branch outcome    | `BRANCH#<groupKey>`   | `<branchId>`           | last re-point: target, epoch, error|
 * | site role         | `SITES`               | `DC` / `DR`            | role, `version`                    |
 * | director status   | `DIRECTORS`           | `DC` / `DR`            | reachable, last run                |
 * | audit event       | `AUDIT#<yyyy-mm-dd>`  | `<iso time>#<id>`      | TTL `expiresAt`                    |
 * | DR lock           | `LOCK`                | `DR`                   | holder execution, TTL              |
 * | backup record     | `BACKUP#<site>`       | `<iso time>`           | verified manifest                  |
 * | request budget    | `BUDGET#<key>`        | `BUDGET`               | next free slot, `version`, TTL     |
 * | write claim       | `CLAIMS#<tenantId>`   | `<writer>`             | a fenced write in flight, TTL      |
 */

/** Item types; the stream filter and the repositories use these names. */
export const ITEM_TYPES = {
  group: 'group',
  health: 'cpe-health',
  branch: 'branch',
  site: 'site',
  director: 'director',
  audit: 'audit',
  lock: 'lock',
  backup: 'backup',
  budget: 'request-budget',
  claim: 'write-claim',
} as const;
export type ItemType = (typeof ITEM_TYPES)[keyof typeof ITEM_TYPES];

/** Key attribute names and the TTL attribute (epoch seconds). */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' } as const;

/** Partition key prefix of the request-budget items (a scoped IAM grant matches it). */
export const BUDGET_PK_PREFIX = 'BUDGET#';

/** Key builders: the only place the key formats above are spelled out. */
export const keys = {
  group: (groupKey: string) => ({ pk: 'GROUPS', sk: groupKey }),
  groupsPartition: 'GROUPS',
  health: (groupKey: string, targetId: string) => ({ pk: `HEALTH#${groupKey}`, sk: targetId }),
  healthPartition: (groupKey: string) => `HEALTH#${groupKey}`,
  branch: (groupKey: string, branchId: string) => ({ pk: `BRANCH#${groupKey}`, sk: branchId }),
  branchPartition: (groupKey: string) => `BRANCH#${groupKey}`,
  site: (site: string) => ({ pk: 'SITES', sk: site }),
  sitesPartition: 'SITES',
  director: (site: string) => ({ pk: 'DIRECTORS', sk: site }),
  directorsPartition: 'DIRECTORS',
  audit: (isoTime: string, id: string) => ({ pk: `AUDIT#${isoTime.slice(0, 10)}`, sk: `${isoTime}#${id}` }),
  lock: (name: string) => ({ pk: 'LOCK', sk: name }),
  backup: (site: string, isoTime: string) => ({ pk: `BACKUP#${site}`, sk: isoTime }),
  backupPartition: (site: string) => `BACKUP#${site}`,
  /** A shared request budget (`meraki#<organizationId>`); IAM grants match the `BUDGET#` prefix. */
  budget: (key: string) => ({ pk: `${BUDGET_PK_PREFIX}${key}`, sk: 'BUDGET' }),
  /** A fenced write in flight (a Meraki tag swap or action batch): one item per write. */
  claim: (tenantId: string, writer: string) => ({ pk: `CLAIMS#${tenantId}`, sk: writer }),
  claimsPartition: (tenantId: string) => `CLAIMS#${tenantId}`,
} as const;

/**
 * Item types the failover function consumes from the stream (health transitions, site-role
 * changes, director reachability for the monitor-blind guard). Used for the event source
 * mapping's FilterCriteria and by the sandbox's stream poller.
 */
export const FAILOVER_STREAM_TYPES: readonly ItemType[] = [
  ITEM_TYPES.health,
  ITEM_TYPES.site,
  ITEM_TYPES.director,
];
