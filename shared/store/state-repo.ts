/**
 * The state repository over the one table (layout in ./table.ts). Every item carries a `version`
 * that each write raises; writes are conditional on the version (groups: on the `epoch`) they
 * read, so a concurrent writer is detected, re-read and re-applied: never lost, never applied
 * twice (see {@link ItemStore.update}).
 *
 * It works only through the {@link VersionedTable} port (get, query, single-item conditional
 * put/delete, batch put): no update expressions, no transactions, so the same code runs over
 * DynamoDB ({@link DynamoTable}) and over the checker's {@link MemoryTable}. Time and ids come
 * from the injected {@link Runtime}.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { acknowledgedVerdict } from '../domain/monitor.js';
import type { AlarmKind, Pin, SiteName, SiteRole } from '../domain/model.js';
import { ConcurrentUpdateError, ValidationError } from '../errors.js';
import { systemRuntime, type Runtime } from '../runtime.js';
import { DynamoTable } from './dynamo-table.js';
import {
  bodyOf,
  ItemStore,
  mapBounded,
  requirePositiveInt,
  requireText,
  type ItemBody,
  type ItemKey,
  type UpdateResult,
  type VersionedItem,
} from './item-store.js';
import {
  DEFAULT_SITE_ROLES,
  type AuditEventInput,
  type AuditItem,
  type BackupItem,
  type BackupRecordInput,
  type BranchItem,
  type BranchOutcome,
  type DirectorItem,
  type DirectorState,
  type DirectorStatus,
  type GroupIdentity,
  type GroupItem,
  type HealthItem,
  type HealthItemWrite,
  type HealthWriteResult,
  type LockItem,
  type LockResult,
  type MonitorBlindAck,
  type MonitorBlindAckResult,
  type ServingUpdate,
  type SiteItem,
  type StateRepositoryOptions,
  type StoredHealth,
  type StoredTransition,
} from './items.js';
import { ITEM_TYPES, keys } from './table.js';
import { conditions, isConditionFailed, type TableItem, type VersionedTable } from './versioned-table.js';

export * from './items.js';
export type { ItemBody, ItemKey, UpdateResult, VersionedItem } from './item-store.js';

// ---------------------------------------------------------------------------------------------

function healthState(item: HealthItem): StoredHealth['state'] {
  return { health: item.health, badStreak: item.badStreak, cleanSince: item.cleanSince, since: item.since };
}

/** A health item's attributes from a write; the stored transition stays unless the write has one. */
function healthBody(item: HealthItemWrite, stored: StoredTransition | undefined): ItemBody<HealthItem> {
  const t = item.transition;
  return {
    type: ITEM_TYPES.health,
    groupKey: item.groupKey,
    tenantId: item.tenantId,
    targetId: item.targetId,
    name: item.name,
    site: item.site,
    slot: item.slot,
    health: item.state.health,
    since: item.state.since,
    badStreak: item.state.badStreak,
    cleanSince: item.state.cleanSince,
    lastTransition: t ? { from: t.from, to: t.to, reason: t.reason, at: t.at } : stored,
  };
}

/** Sites in the order their role writes go: demotions (to PASSIVE) first, then DC before DR. */
function siteWriteOrder(roles: Partial<Record<SiteName, SiteRole>>): SiteName[] {
  return (Object.keys(roles) as SiteName[]).sort(
    (a, b) => Number(roles[a] === 'ACTIVE') - Number(roles[b] === 'ACTIVE') || (a < b ? -1 : a > b ? 1 : 0),
  );
}

function requireEpoch(what: string, path: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new ValidationError(what, [{ path, value, expected: 'an integer >= 0' }]);
  }
}

/**
 * The controller's state in the one table. Construct once per container (cheap): with the
 * container's DocumentClient (./dynamo.ts), the table name and a clock (epoch ms) — a thin
 * convenience over a {@link DynamoTable} — or, with {@link StateRepository.overTable}, over any
 * {@link VersionedTable} and {@link Runtime} (the checker's memory table and seeded runtime).
 */
export class StateRepository {
  /** The table's name (the DynamoDB table name; the memory table's name). */
  readonly tableName: string;
  private readonly store: ItemStore;
  private readonly table: VersionedTable;
  private readonly runtime: Runtime;
  private readonly auditTtlDays: number;
  private readonly maxAttempts: number;
  private readonly readConcurrency: number;

  /** Over DynamoDB: the DocumentClient, the table name, a clock (epoch ms) and options. */
  constructor(
    doc: DynamoDBDocumentClient,
    tableName: string,
    clock?: () => number,
    options?: StateRepositoryOptions,
  );
  /** Over any table port, with the runtime every time, sleep and id comes from. */
  constructor(table: VersionedTable, runtime: Runtime, options?: StateRepositoryOptions);
  constructor(
    docOrTable: DynamoDBDocumentClient | VersionedTable,
    tableNameOrRuntime: string | Runtime,
    clockOrOptions?: (() => number) | StateRepositoryOptions,
    maybeOptions?: StateRepositoryOptions,
  ) {
    let options: StateRepositoryOptions;
    if (typeof tableNameOrRuntime === 'string') {
      requireText('tableName', tableNameOrRuntime);
      const clock = (clockOrOptions as (() => number) | undefined) ?? systemRuntime.now;
      this.runtime = { ...systemRuntime, now: clock };
      this.table = new DynamoTable(docOrTable as DynamoDBDocumentClient, tableNameOrRuntime, this.runtime);
      options = maybeOptions ?? {};
    } else {
      this.table = docOrTable as VersionedTable;
      this.runtime = tableNameOrRuntime;
      options = (clockOrOptions as StateRepositoryOptions | undefined) ?? {};
    }
    this.tableName = this.table.name;
    this.auditTtlDays = options.auditTtlDays ?? 90;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.readConcurrency = options.readConcurrency ?? 8;
    requirePositiveInt('auditTtlDays', this.auditTtlDays);
    requirePositiveInt('maxAttempts', this.maxAttempts);
    requirePositiveInt('readConcurrency', this.readConcurrency);
    this.store = new ItemStore(this.table, this.runtime, { maxAttempts: this.maxAttempts });
  }

  /** A repository over any {@link VersionedTable} (e.g. a {@link MemoryTable}) and {@link Runtime}. */
  static overTable(
    table: VersionedTable,
    runtime: Runtime,
    options: StateRepositoryOptions = {},
  ): StateRepository {
    return new StateRepository(table, runtime, options);
  }

  // --- Generic --------------------------------------------------------------------------------

  /** Read one item (strongly consistent). */
  get<T extends object>(key: ItemKey): Promise<T | undefined> {
    return this.store.get<T>(key);
  }

  /** Every item of a partition (all pages), in sort-key order unless `newestFirst`. */
  queryPartition<T extends object>(
    pk: string,
    options: { newestFirst?: boolean; limit?: number } = {},
  ): Promise<T[]> {
    return this.store.queryPartition<T>(pk, options);
  }

  /** Read–apply–conditional-write one item: see {@link ItemStore.update}. */
  update<T extends VersionedItem>(
    key: ItemKey,
    fn: (current: T | undefined) => ItemBody<T> | undefined,
  ): Promise<UpdateResult<T>> {
    return this.store.update(key, fn);
  }

  // --- CPE health -----------------------------------------------------------------------------

  /** Every health item of a group (one Query). */
  listHealthItems(groupKey: string): Promise<HealthItem[]> {
    requireText('groupKey', groupKey);
    return this.queryPartition<HealthItem>(keys.healthPartition(groupKey));
  }

  /** A group's targets' health (one Query); each item has `targetId`, `health`, `since`. */
  listHealth(groupKey: string): Promise<HealthItem[]> {
    return this.listHealthItems(groupKey);
  }

  /** The stored hysteresis state and version of every target of these groups, by target id. */
  async loadHealth(groupKeys: readonly string[]): Promise<Map<string, StoredHealth>> {
    const perGroup = await mapBounded(groupKeys, this.readConcurrency, (g) => this.listHealthItems(g));
    const result = new Map<string, StoredHealth>();
    for (const item of perGroup.flat())
      result.set(item.targetId, { state: healthState(item), version: item.version });
    return result;
  }

  /**
   * Write a target's health if its stored version is still `expectedVersion` (undefined: the item
   * must not exist yet). Attributes not written (the last transition on a progress-only write)
   * are kept. On a lost race, returns the item as stored now so the caller can re-apply.
   * One read, then one put conditional on `expectedVersion`.
   */
  async writeHealth(item: HealthItemWrite, expectedVersion: number | undefined): Promise<HealthWriteResult> {
    requireText('groupKey', item.groupKey);
    requireText('targetId', item.targetId);
    const key = keys.health(item.groupKey, item.targetId);
    const stored = (current: HealthItem | undefined): HealthWriteResult => ({
      ok: false,
      current: current && { state: healthState(current), version: current.version },
    });
    const current = await this.get<HealthItem>(key);
    if (current?.version !== expectedVersion) return stored(current);
    const writeId = this.runtime.id();
    const next: HealthItem = {
      ...bodyOf(current),
      ...healthBody(item, current?.lastTransition),
      ...key,
      version: (expectedVersion ?? 0) + 1,
      updatedAt: this.runtime.now(),
      writeId,
    };
    try {
      await this.table.put(next as unknown as TableItem, conditions.versionOrAbsent(expectedVersion));
      return { ok: true, version: next.version };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const now = await this.get<HealthItem>(key);
      if (now && now.writeId === writeId) return { ok: true, version: now.version };
      return stored(now);
    }
  }

  /**
   * Write a target's health only when it differs from what is stored (state, or a new
   * transition), re-reading and re-applying on a conflict. Returns whether it wrote.
   */
  async saveHealth(item: HealthItemWrite): Promise<UpdateResult<HealthItem>> {
    requireText('groupKey', item.groupKey);
    requireText('targetId', item.targetId);
    return this.update<HealthItem>(keys.health(item.groupKey, item.targetId), (current) => {
      const s = item.state;
      const t = item.transition;
      const sameState =
        current !== undefined &&
        current.health === s.health &&
        current.badStreak === s.badStreak &&
        current.cleanSince === s.cleanSince &&
        current.since === s.since;
      const sameTransition =
        t === undefined ||
        (current?.lastTransition?.at === t.at &&
          current.lastTransition.from === t.from &&
          current.lastTransition.to === t.to);
      if (sameState && sameTransition) return undefined;
      return healthBody(item, current?.lastTransition);
    });
  }

  // --- Groups ---------------------------------------------------------------------------------

  /** One group (undefined: never elected). */
  getGroup(groupKey: string): Promise<GroupItem | undefined> {
    requireText('groupKey', groupKey);
    return this.get<GroupItem>(keys.group(groupKey));
  }

  /** Every group. */
  listGroups(): Promise<GroupItem[]> {
    return this.queryPartition<GroupItem>(keys.groupsPartition);
  }

  /**
   * Write serving + epoch (and, when given, the notice outbox, in the same conditional write)
   * only if the stored epoch is still `expectedEpoch` (an absent group counts as epoch 0).
   * Resolves false when another writer got there first; the caller re-reads and re-decides. Pin
   * and preempt are kept; so is the stored outbox when `next.outbox` is undefined. A concurrent
   * write that leaves the epoch alone (a pin) is re-read and the change re-applied.
   */
  async compareAndSetServing(groupKey: string, expectedEpoch: number, next: ServingUpdate): Promise<boolean> {
    requireText('groupKey', groupKey);
    requireEpoch('expectedEpoch', 'expectedEpoch', expectedEpoch);
    if (!Number.isInteger(next.epoch) || next.epoch <= expectedEpoch) {
      throw new ValidationError('next.epoch', [
        {
          path: 'next.epoch',
          value: next.epoch,
          expected: `an integer greater than expectedEpoch (${expectedEpoch})`,
        },
      ]);
    }
    const result = await this.update<GroupItem>(keys.group(groupKey), (current) => {
      if ((current?.epoch ?? 0) !== expectedEpoch) return undefined;
      return {
        ...bodyOf(current),
        type: ITEM_TYPES.group,
        groupKey,
        tenantId: next.tenantId,
        haName: next.haName,
        servingId: next.servingId,
        epoch: next.epoch,
        reason: next.reason,
        alarms: next.alarms,
        changedAt: next.changedAt,
        outbox: next.outbox ?? current?.outbox,
      };
    });
    return result.changed;
  }

  /**
   * Remove the group's notice outbox (its notices were sent), only if the stored epoch is still
   * `epoch`. Resolves false, writing nothing, when the epoch moved (a newer change owns the
   * outbox now) or there is no outbox.
   */
  async clearOutbox(groupKey: string, epoch: number): Promise<boolean> {
    requireText('groupKey', groupKey);
    requireEpoch('clearOutbox', 'epoch', epoch);
    const result = await this.update<GroupItem>(keys.group(groupKey), (current) => {
      if (current === undefined || current.epoch !== epoch || current.outbox === undefined) return undefined;
      return { ...bodyOf(current), outbox: undefined } as ItemBody<GroupItem>;
    });
    return result.changed;
  }

  /** Set (or with undefined, clear) a group's pin. Serving and epoch are untouched. */
  setPin(groupKey: string, pin: Pin | undefined, group: GroupIdentity): Promise<GroupItem> {
    return this.patchGroup(groupKey, group, { pin });
  }

  /**
   * Replace a group's open alarms, only if its epoch is still `expectedEpoch` (the one the caller
   * decided on; 0 and an absent group are the same), so a decision made on an older record never
   * writes its alarms (e.g. ALL_DOWN) over a newer serving record. Serving and epoch are untouched.
   * Resolves false, changing nothing, when the epoch moved: re-read and decide again.
   */
  async setAlarms(
    groupKey: string,
    alarms: readonly AlarmKind[],
    group: GroupIdentity,
    expectedEpoch: number,
  ): Promise<boolean> {
    requireEpoch('setAlarms', 'expectedEpoch', expectedEpoch);
    const item = await this.patchGroup(groupKey, group, { alarms: [...new Set(alarms)] }, expectedEpoch);
    return item !== undefined;
  }

  /** Set (or with undefined, clear) a group's preemption override. */
  setPreempt(groupKey: string, preempt: boolean | undefined, group: GroupIdentity): Promise<GroupItem> {
    return this.patchGroup(groupKey, group, { preempt });
  }

  /**
   * Set some group attributes (undefined: remove them) without touching the rest, creating the
   * group at epoch 0 with no alarms when it does not exist; always writes (raises the version).
   */
  private async patchGroup(
    groupKey: string,
    group: GroupIdentity,
    patch: Partial<Pick<GroupItem, 'pin' | 'alarms' | 'preempt'>>,
  ): Promise<GroupItem>;
  /** The same, only if the stored epoch is `expectedEpoch`; undefined (nothing written) if not. */
  private async patchGroup(
    groupKey: string,
    group: GroupIdentity,
    patch: Partial<Pick<GroupItem, 'pin' | 'alarms' | 'preempt'>>,
    expectedEpoch: number,
  ): Promise<GroupItem | undefined>;
  private async patchGroup(
    groupKey: string,
    group: GroupIdentity,
    patch: Partial<Pick<GroupItem, 'pin' | 'alarms' | 'preempt'>>,
    expectedEpoch?: number,
  ): Promise<GroupItem | undefined> {
    requireText('groupKey', groupKey);
    requireText('tenantId', group.tenantId);
    requireText('haName', group.haName);
    const result = await this.update<GroupItem>(keys.group(groupKey), (current) => {
      if (expectedEpoch !== undefined && (current?.epoch ?? 0) !== expectedEpoch) return undefined;
      return {
        ...bodyOf(current),
        type: ITEM_TYPES.group,
        groupKey,
        tenantId: group.tenantId,
        haName: group.haName,
        epoch: current?.epoch ?? 0,
        alarms: current?.alarms ?? [],
        ...patch,
      };
    });
    return result.changed ? result.item : undefined;
  }

  /** Read–apply–write a group (see {@link update}); for changes the specific methods do not cover. */
  updateGroup(
    groupKey: string,
    fn: (current: GroupItem | undefined) => ItemBody<GroupItem> | undefined,
  ): Promise<UpdateResult<GroupItem>> {
    requireText('groupKey', groupKey);
    return this.update<GroupItem>(keys.group(groupKey), fn);
  }

  // --- Site roles -----------------------------------------------------------------------------

  /** Both site items as stored (a site never written is absent). */
  async getSiteItems(): Promise<Partial<Record<SiteName, SiteItem>>> {
    const items = await this.queryPartition<SiteItem>(keys.sitesPartition);
    return Object.fromEntries(items.map((item) => [item.site, item]));
  }

  /** Both sites' roles; a site without an item has its default (DC ACTIVE, DR PASSIVE). */
  async getSiteRoles(): Promise<Record<SiteName, SiteRole>> {
    const items = await this.getSiteItems();
    return { DC: items.DC?.role ?? DEFAULT_SITE_ROLES.DC, DR: items.DR?.role ?? DEFAULT_SITE_ROLES.DR };
  }

  /**
   * Set site roles, one conditional single-item write per site (no transaction: an MRSC global
   * table has none), in a fixed order: demotions to PASSIVE first, then DC before DR, so a reader
   * between the writes may see both sites PASSIVE but never both ACTIVE.
   *
   * With `expectedVersions`, every listed site must still be at that version (undefined: never
   * written): all are read and checked first, and a mismatch resolves false writing nothing. If a
   * write then still loses a race, the sites already written are put back as they were
   * (conditionally on the version written; a newer write there wins) and the call resolves false.
   * Without, the current versions are read, sites whose role is already right are skipped (no
   * stream record), and a conflict is re-read and re-applied to the sites still wrong.
   */
  async setSiteRoles(
    roles: Partial<Record<SiteName, SiteRole>>,
    options: {
      expectedVersions?: Partial<Record<SiteName, number | undefined>>;
      reason?: string;
      by?: string;
    } = {},
  ): Promise<boolean> {
    for (const [site, role] of Object.entries(roles)) {
      if (site !== 'DC' && site !== 'DR') {
        throw new ValidationError('roles', [
          { path: `roles.${site}`, value: role, expected: 'site DC or DR' },
        ]);
      }
      if (role !== 'ACTIVE' && role !== 'PASSIVE') {
        throw new ValidationError('roles', [
          { path: `roles.${site}`, value: role, expected: 'ACTIVE or PASSIVE' },
        ]);
      }
    }
    const sites = siteWriteOrder(roles);
    const siteItem = (site: SiteName, previous: SiteItem | undefined): SiteItem => ({
      ...keys.site(site),
      type: ITEM_TYPES.site,
      site,
      role: roles[site] as SiteRole,
      version: (previous?.version ?? 0) + 1,
      updatedAt: this.runtime.now(),
      writeId: this.runtime.id(),
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(options.by === undefined ? {} : { by: options.by }),
    });
    const expectedVersions = options.expectedVersions;
    if (expectedVersions) {
      const current = await this.getSiteItems();
      if (sites.some((s) => current[s]?.version !== expectedVersions[s])) return false;
      const written: { previous: SiteItem | undefined; item: SiteItem }[] = [];
      for (const site of sites) {
        const item = siteItem(site, current[site]);
        if (!(await this.putSite(item, current[site]?.version))) {
          await this.restoreSites(written);
          return false;
        }
        written.push({ previous: current[site], item });
      }
      return true;
    }
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const current = await this.getSiteItems();
      const toWrite = sites.filter((s) => current[s]?.role !== roles[s]);
      let conflict = false;
      for (const site of toWrite) {
        if (!(await this.putSite(siteItem(site, current[site]), current[site]?.version))) {
          conflict = true;
          break;
        }
      }
      if (!conflict) return true;
    }
    throw new ConcurrentUpdateError(`site roles: still conflicting after ${this.maxAttempts} attempts`);
  }

  /** Put one site item conditionally; false on a lost race (true when the lost answer was ours). */
  private async putSite(item: SiteItem, expectedVersion: number | undefined): Promise<boolean> {
    try {
      await this.table.put(item as unknown as TableItem, conditions.versionOrAbsent(expectedVersion));
      return true;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return (await this.get<SiteItem>(item))?.writeId === item.writeId;
    }
  }

  /** Undo site writes of a call that lost a race (newest first), each only if still ours. */
  private async restoreSites(written: { previous: SiteItem | undefined; item: SiteItem }[]): Promise<void> {
    for (const { previous, item } of [...written].reverse()) {
      try {
        if (previous === undefined) await this.table.delete(item, conditions.version(item.version));
        else {
          const back: SiteItem = {
            ...previous,
            version: item.version + 1,
            updatedAt: this.runtime.now(),
            writeId: this.runtime.id(),
          };
          await this.table.put(back as unknown as TableItem, conditions.version(item.version));
        }
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
      }
    }
  }

  // --- Director status ------------------------------------------------------------------------

  /** A site's director status as recorded (undefined: never recorded). */
  loadDirectorStatus(site: SiteName): Promise<DirectorItem | undefined> {
    return this.get<DirectorItem>(keys.director(site));
  }

  /** Both directors' statuses (`at` = `since`, for the failover service). */
  async listDirectorStates(): Promise<(DirectorItem & DirectorState)[]> {
    const items = await this.queryPartition<DirectorItem>(keys.directorsPartition);
    return items.map((item) => ({ ...item, at: item.since }));
  }

  /**
   * Record a director's status, only when it changes: written only if the stored `reachable`
   * (and `monitorBlind`/`monitorBlindLatched`, when given) differ. Other attributes (the last
   * acknowledgement) are kept. Resolves whether it wrote.
   */
  async writeDirectorStatus(status: DirectorStatus): Promise<boolean> {
    const result = await this.update<DirectorItem>(keys.director(status.site), (current) => {
      const changed =
        current === undefined ||
        current.reachable !== status.reachable ||
        (status.monitorBlind !== undefined && current.monitorBlind !== status.monitorBlind) ||
        (status.monitorBlindLatched !== undefined &&
          current.monitorBlindLatched !== status.monitorBlindLatched);
      if (!changed) return undefined;
      return {
        ...bodyOf(current),
        type: ITEM_TYPES.director,
        site: status.site,
        reachable: status.reachable,
        since: status.since,
        reason: status.reason,
        // The reason rides along with a verdict change; it alone never causes a write.
        ...(status.monitorBlind === undefined
          ? {}
          : { monitorBlind: status.monitorBlind, monitorBlindReason: status.monitorBlindReason }),
        ...(status.monitorBlindLatched === undefined
          ? {}
          : { monitorBlindLatched: status.monitorBlindLatched }),
      };
    });
    return result.changed;
  }

  /**
   * An operator's acknowledgement of MONITOR_BLIND: clear the share rule's latch on every blind
   * director status item, each in its own write conditional on the version read (no
   * transaction). A concurrent health-check write makes the call re-read and re-apply to the
   * items it has not acknowledged yet (its own writes are recognised by `writeId`). Blindness
   * from an unreachable director stays (`acknowledgedVerdict`): it ends when the director
   * answers. Items that are not blind are left alone; nothing blind: nothing is written.
   */
  async acknowledgeMonitorBlind(ack: MonitorBlindAck): Promise<MonitorBlindAckResult> {
    requireText('reason', ack.reason);
    const mine = new Set<string>();
    let acknowledged = false;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const items = await this.queryPartition<DirectorItem>(keys.directorsPartition);
      const blind = items.filter(
        (i) =>
          (i.monitorBlind === true || i.monitorBlindLatched === true) &&
          !(i.writeId !== undefined && mine.has(i.writeId)),
      );
      if (blind.length === 0) return { acknowledged, directors: items };
      const verdict = acknowledgedVerdict(items.some((i) => !i.reachable));
      let conflict = false;
      for (const item of blind) {
        const writeId = this.runtime.id();
        mine.add(writeId);
        const next: DirectorItem = {
          ...item,
          monitorBlind: verdict.blind,
          monitorBlindLatched: false,
          acknowledged: { at: ack.at, reason: ack.reason, ...(ack.by === undefined ? {} : { by: ack.by }) },
          version: item.version + 1,
          updatedAt: this.runtime.now(),
          writeId,
        };
        if (verdict.reason) next.monitorBlindReason = verdict.reason;
        else delete next.monitorBlindReason;
        try {
          await this.table.put(next as unknown as TableItem, conditions.version(item.version));
          acknowledged = true;
        } catch (error) {
          if (!isConditionFailed(error)) throw error;
          conflict = true;
          break;
        }
      }
      if (!conflict) {
        return { acknowledged, directors: await this.queryPartition<DirectorItem>(keys.directorsPartition) };
      }
    }
    throw new ConcurrentUpdateError(
      `monitor-blind acknowledgement: director status kept changing for ${this.maxAttempts} attempts`,
    );
  }

  // --- Branch outcomes ------------------------------------------------------------------------

  /**
   * Record branch outcomes with batch writes (25 per request, unprocessed items retried with
   * backoff). Last writer wins per branch; within one call the highest epoch of a branch is kept.
   */
  async putBranchOutcomes(outcomes: readonly BranchOutcome[]): Promise<void> {
    const latest = new Map<string, BranchOutcome>();
    for (const o of outcomes) {
      requireText('groupKey', o.groupKey);
      requireText('branchId', o.branchId);
      const id = `${o.groupKey}\u0000${o.branchId}`;
      const seen = latest.get(id);
      if (!seen || o.epoch >= seen.epoch) latest.set(id, o);
    }
    const now = this.runtime.now();
    const items: BranchItem[] = [...latest.values()].map((o) => ({
      ...o,
      ...keys.branch(o.groupKey, o.branchId),
      type: ITEM_TYPES.branch,
      updatedAt: now,
    }));
    if (items.length > 0) await this.table.batchPut(items as unknown as TableItem[]);
  }

  /** Every branch outcome of a group. */
  listBranchOutcomes(groupKey: string): Promise<BranchItem[]> {
    requireText('groupKey', groupKey);
    return this.queryPartition<BranchItem>(keys.branchPartition(groupKey));
  }

  // --- Audit events ---------------------------------------------------------------------------

  /**
   * Write an audit event that DynamoDB deletes after `auditTtlDays` (TTL `expiresAt`, epoch
   * seconds from the event's `at`). Accepts any event with `kind` and `at` (e.g. a notice).
   */
  async writeAudit<T extends AuditEventInput>(event: T): Promise<AuditItem> {
    const item = this.auditItem(event, this.runtime.id());
    await this.table.put(item as unknown as TableItem, conditions.none);
    return item;
  }

  /**
   * Write an audit event at most once per `dedupId` (e.g. `<groupKey>#<epoch>` for a notice sent
   * from the outbox, which may be sent more than once): the item's id is `dedupId`, so its key is
   * `AUDIT#<day of at>` / `<iso at>#<dedupId>`, and the put is conditional on that item being
   * absent. Resolves true when this call created it, false when it already existed (a retry with
   * the same `dedupId` and `at`).
   */
  async writeAuditOnce<T extends AuditEventInput>(event: T, dedupId: string): Promise<boolean> {
    requireText('dedupId', dedupId);
    const item = this.auditItem(event, dedupId);
    try {
      await this.table.put(item as unknown as TableItem, conditions.absent);
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  private auditItem<T extends AuditEventInput>(event: T, id: string): AuditItem {
    requireText('kind', event.kind);
    if (!Number.isFinite(event.at)) {
      throw new ValidationError('audit event', [
        { path: 'at', value: event.at, expected: 'epoch milliseconds' },
      ]);
    }
    const iso = new Date(event.at).toISOString();
    return {
      ...keys.audit(iso, id),
      type: ITEM_TYPES.audit,
      id,
      kind: event.kind,
      at: event.at,
      ...(event.groupKey === undefined ? {} : { groupKey: event.groupKey }),
      ...(event.tenantId === undefined ? {} : { tenantId: event.tenantId }),
      ...(event.reason === undefined ? {} : { reason: event.reason }),
      detail: { ...event } as Record<string, unknown>,
      expiresAt: Math.floor(event.at / 1000) + this.auditTtlDays * 86_400,
    };
  }

  /** A day's audit events (`day` = `yyyy-mm-dd`, UTC), newest first. */
  listAuditEvents(day: string, limit?: number): Promise<AuditItem[]> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
      throw new ValidationError('day', [{ path: 'day', value: day, expected: 'a UTC date yyyy-mm-dd' }]);
    }
    return this.queryPartition<AuditItem>(keys.audit(`${day}T`, '').pk, { newestFirst: true, limit });
  }

  // --- DR lock --------------------------------------------------------------------------------

  /** The lock item as stored (it may have expired: compare `expiresAt` with now). */
  getLock(name = 'DR'): Promise<LockItem | undefined> {
    return this.get<LockItem>(keys.lock(name));
  }

  /**
   * Take the lock for `owner` for `ttlSec` seconds: succeeds when it is free, expired, or already
   * held by the same owner (a retried step; the TTL is renewed). Otherwise reports the holder.
   */
  async acquireLock(owner: string, ttlSec: number, name = 'DR'): Promise<LockResult> {
    requireText('owner', owner);
    requirePositiveInt('ttlSec', ttlSec);
    requireText('name', name);
    const now = this.runtime.now();
    const nowSec = Math.floor(now / 1000);
    const result = await this.update<LockItem>(keys.lock(name), (current) => {
      const live = current !== undefined && current.expiresAt > nowSec;
      if (live && current.owner !== owner) return undefined;
      return {
        type: ITEM_TYPES.lock,
        name,
        owner,
        acquiredAt: live ? current.acquiredAt : now,
        expiresAt: nowSec + ttlSec,
      };
    });
    return result.changed
      ? { acquired: true, lock: result.item as LockItem }
      : { acquired: false, holder: result.item };
  }

  /** Release the lock if `owner` holds it. Resolves whether it did (false: someone else's or free). */
  async releaseLock(owner: string, name = 'DR'): Promise<boolean> {
    requireText('owner', owner);
    try {
      await this.table.delete(keys.lock(name), conditions.attribute('owner', owner));
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  // --- Backup records -------------------------------------------------------------------------

  /** Record (or re-record, replacing) a backup under `BACKUP#<site>` / `<at>`. */
  async recordBackup<T extends BackupRecordInput>(record: T): Promise<BackupItem<T>> {
    if (record.site !== 'DC' && record.site !== 'DR') {
      throw new ValidationError('backup record', [
        { path: 'site', value: record.site, expected: 'DC or DR' },
      ]);
    }
    if (Number.isNaN(Date.parse(record.at))) {
      throw new ValidationError('backup record', [{ path: 'at', value: record.at, expected: 'an ISO time' }]);
    }
    const result = await this.update<BackupItem<T>>(
      keys.backup(record.site, record.at),
      (current) =>
        ({
          ...record,
          type: ITEM_TYPES.backup,
          ...(current?.cleanupPending === undefined ? {} : { cleanupPending: current.cleanupPending }),
        }) as unknown as ItemBody<BackupItem<T>>,
    );
    return result.item as BackupItem<T>;
  }

  /** A site's backup records, newest first (at most `limit`). */
  listBackups<T extends BackupRecordInput = BackupRecordInput>(
    site: SiteName,
    limit?: number,
  ): Promise<BackupItem<T>[]> {
    return this.queryPartition<BackupItem<T>>(keys.backupPartition(site), { newestFirst: true, limit });
  }

  /**
   * Mark (or unmark) a backup's cleanup as pending. Resolves false when the record does not
   * exist; nothing is created then.
   */
  async markCleanupPending(site: SiteName, at: string, pending = true): Promise<boolean> {
    const result = await this.update<BackupItem>(keys.backup(site, at), (current) =>
      current === undefined
        ? undefined
        : ({ ...bodyOf(current), cleanupPending: pending } as ItemBody<BackupItem>),
    );
    return result.changed;
  }
}
