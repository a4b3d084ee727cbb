/**
 * The state repository over the one table (layout in ./table.ts): a facade composing one small
 * repository per aggregate (./repos/: health, groups, sites, directors, branch outcomes, audit,
 * DR lock and backups, write claims), each over the {@link VersionedTable} port through the shared
 * {@link ItemStore}. Every item carries a `version` that each write raises; writes are
 * conditional on the version (groups: on the `epoch`) they read, so a concurrent writer is
 * detected, re-read and re-applied: never lost, never applied twice (see {@link ItemStore.update}).
 *
 * Only the port is used (get, query, single-item conditional put/delete, batch put): no update
 * expressions, no transactions, so the same code runs over DynamoDB ({@link DynamoTable}) and
 * over the checker's {@link MemoryTable}. Time and ids come from the injected {@link Runtime}.
 * Callers keep using this class; new code may depend on one part (`repo.groups`, …) instead.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AlarmKind, Pin, SiteName, SiteRole } from '../domain/model.js';
import { systemRuntime, type Runtime } from '../runtime.js';
import { DynamoTable } from './dynamo-table.js';
import {
  ItemStore,
  requireText,
  type ItemBody,
  type ItemKey,
  type UpdateResult,
  type VersionedItem,
} from './item-store.js';
import type {
  AuditEventInput,
  AuditItem,
  BackupItem,
  BackupRecordInput,
  BranchItem,
  BranchOutcome,
  DirectorItem,
  DirectorState,
  DirectorStatus,
  GroupIdentity,
  GroupItem,
  HealthItem,
  HealthItemWrite,
  HealthWriteResult,
  LockItem,
  LockResult,
  MonitorBlindAck,
  MonitorBlindAckResult,
  ServingUpdate,
  SiteItem,
  StateRepositoryOptions,
  StoredHealth,
} from './items.js';
import { AuditRepository } from './repos/audit.js';
import { BranchRepository } from './repos/branches.js';
import { DirectorRepository } from './repos/directors.js';
import { DrRepository } from './repos/dr.js';
import { GroupRepository, type ServingGuard } from './repos/groups.js';
import { HealthRepository } from './repos/health.js';
import { SiteRepository, type SetSiteRolesOptions } from './repos/sites.js';
import { WriteClaimRepository } from './repos/write-claims.js';
import type { VersionedTable } from './versioned-table.js';

export * from './items.js';
export type { ItemBody, ItemKey, UpdateResult, VersionedItem } from './item-store.js';
export type { SetSiteRolesOptions } from './repos/sites.js';

/**
 * The controller's state in the one table. Construct once per container (cheap): with the
 * container's DocumentClient (./dynamo.ts), the table name and a clock (epoch ms) — a thin
 * convenience over a {@link DynamoTable} — or, with {@link StateRepository.overTable}, over any
 * {@link VersionedTable} and {@link Runtime} (the checker's memory table and seeded runtime).
 * Each method delegates to the part that owns the item type; see the parts for the details.
 */
export class StateRepository {
  /** The table's name (the DynamoDB table name; the memory table's name). */
  readonly tableName: string;
  /** CPE health items. */
  readonly health: HealthRepository;
  /** Group items: serving, epoch, pin, alarms, notice outbox. */
  readonly groups: GroupRepository;
  /** Site roles. */
  readonly sites: SiteRepository;
  /** Director status items. */
  readonly directors: DirectorRepository;
  /** Branch outcomes. */
  readonly branches: BranchRepository;
  /** Audit events. */
  readonly audit: AuditRepository;
  /** The DR lock and backup records. */
  readonly dr: DrRepository;
  /** Fenced writes in flight (Meraki tag swaps). */
  readonly claims: WriteClaimRepository;
  private readonly store: ItemStore;

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
    let table: VersionedTable;
    let runtime: Runtime;
    let options: StateRepositoryOptions;
    if (typeof tableNameOrRuntime === 'string') {
      requireText('tableName', tableNameOrRuntime);
      const clock = (clockOrOptions as (() => number) | undefined) ?? systemRuntime.now;
      runtime = { ...systemRuntime, now: clock };
      table = new DynamoTable(docOrTable as DynamoDBDocumentClient, tableNameOrRuntime, runtime);
      options = maybeOptions ?? {};
    } else {
      table = docOrTable as VersionedTable;
      runtime = tableNameOrRuntime;
      options = (clockOrOptions as StateRepositoryOptions | undefined) ?? {};
    }
    this.tableName = table.name;
    const store = new ItemStore(table, runtime, { maxAttempts: options.maxAttempts ?? 8 });
    this.store = store;
    this.health = new HealthRepository(store, { readConcurrency: options.readConcurrency ?? 8 });
    this.groups = new GroupRepository(store);
    this.sites = new SiteRepository(store);
    this.directors = new DirectorRepository(store);
    this.branches = new BranchRepository(store);
    this.audit = new AuditRepository(store, { auditTtlDays: options.auditTtlDays ?? 90 });
    this.dr = new DrRepository(store);
    this.claims = new WriteClaimRepository(store);
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

  // --- CPE health (HealthRepository) ----------------------------------------------------------

  /** See {@link HealthRepository.listHealthItems}. */
  listHealthItems(groupKey: string): Promise<HealthItem[]> {
    return this.health.listHealthItems(groupKey);
  }

  /** See {@link HealthRepository.listHealth}. */
  listHealth(groupKey: string): Promise<HealthItem[]> {
    return this.health.listHealth(groupKey);
  }

  /** See {@link HealthRepository.loadHealth}. */
  loadHealth(groupKeys: readonly string[]): Promise<Map<string, StoredHealth>> {
    return this.health.loadHealth(groupKeys);
  }

  /** See {@link HealthRepository.readHealth}. */
  readHealth(groupKey: string, targetId: string): Promise<StoredHealth | undefined> {
    return this.health.readHealth(groupKey, targetId);
  }

  /** See {@link HealthRepository.writeHealth}. */
  writeHealth(item: HealthItemWrite, expectedVersion: number | undefined): Promise<HealthWriteResult> {
    return this.health.writeHealth(item, expectedVersion);
  }

  /** See {@link HealthRepository.saveHealth}. */
  saveHealth(item: HealthItemWrite): Promise<UpdateResult<HealthItem>> {
    return this.health.saveHealth(item);
  }

  // --- Groups (GroupRepository) ---------------------------------------------------------------

  /** See {@link GroupRepository.getGroup}. */
  getGroup(groupKey: string): Promise<GroupItem | undefined> {
    return this.groups.getGroup(groupKey);
  }

  /** See {@link GroupRepository.listGroups}. */
  listGroups(): Promise<GroupItem[]> {
    return this.groups.listGroups();
  }

  /** See {@link GroupRepository.compareAndSetServing}. */
  compareAndSetServing(
    groupKey: string,
    expectedEpoch: number,
    next: ServingUpdate,
    guard?: ServingGuard,
  ): Promise<boolean> {
    return this.groups.compareAndSetServing(groupKey, expectedEpoch, next, guard);
  }

  /** See {@link GroupRepository.clearOutbox}. */
  clearOutbox(groupKey: string, epoch: number): Promise<boolean> {
    return this.groups.clearOutbox(groupKey, epoch);
  }

  /** See {@link GroupRepository.setPin}. */
  setPin(groupKey: string, pin: Pin | undefined, group: GroupIdentity): Promise<GroupItem> {
    return this.groups.setPin(groupKey, pin, group);
  }

  /** See {@link GroupRepository.setAlarms}. */
  setAlarms(
    groupKey: string,
    alarms: readonly AlarmKind[],
    group: GroupIdentity,
    expectedEpoch: number,
  ): Promise<boolean> {
    return this.groups.setAlarms(groupKey, alarms, group, expectedEpoch);
  }

  /** See {@link GroupRepository.setPreempt}. */
  setPreempt(groupKey: string, preempt: boolean | undefined, group: GroupIdentity): Promise<GroupItem> {
    return this.groups.setPreempt(groupKey, preempt, group);
  }

  /** See {@link GroupRepository.updateGroup}. */
  updateGroup(
    groupKey: string,
    fn: (current: GroupItem | undefined) => ItemBody<GroupItem> | undefined,
  ): Promise<UpdateResult<GroupItem>> {
    return this.groups.updateGroup(groupKey, fn);
  }

  // --- Site roles (SiteRepository) ------------------------------------------------------------

  /** See {@link SiteRepository.getSiteItems}. */
  getSiteItems(): Promise<Partial<Record<SiteName, SiteItem>>> {
    return this.sites.getSiteItems();
  }

  /** See {@link SiteRepository.getSiteRoles}. */
  getSiteRoles(): Promise<Record<SiteName, SiteRole>> {
    return this.sites.getSiteRoles();
  }

  /** See {@link SiteRepository.setSiteRoles}: one conditional write per site, demotions first. */
  setSiteRoles(
    roles: Partial<Record<SiteName, SiteRole>>,
    options: SetSiteRolesOptions = {},
  ): Promise<boolean> {
    return this.sites.setSiteRoles(roles, options);
  }

  // --- Director status (DirectorRepository) ---------------------------------------------------

  /** See {@link DirectorRepository.loadDirectorStatus}. */
  loadDirectorStatus(site: SiteName): Promise<DirectorItem | undefined> {
    return this.directors.loadDirectorStatus(site);
  }

  /** See {@link DirectorRepository.listDirectorStates}. */
  listDirectorStates(): Promise<(DirectorItem & DirectorState)[]> {
    return this.directors.listDirectorStates();
  }

  /** See {@link DirectorRepository.writeDirectorStatus}. */
  writeDirectorStatus(status: DirectorStatus): Promise<boolean> {
    return this.directors.writeDirectorStatus(status);
  }

  /** See {@link DirectorRepository.acknowledgeMonitorBlind}: one conditional write per item. */
  acknowledgeMonitorBlind(ack: MonitorBlindAck): Promise<MonitorBlindAckResult> {
    return this.directors.acknowledgeMonitorBlind(ack);
  }

  // --- Branch outcomes (BranchRepository) -----------------------------------------------------

  /** See {@link BranchRepository.putBranchOutcomes}. */
  putBranchOutcomes(outcomes: readonly BranchOutcome[]): Promise<void> {
    return this.branches.putBranchOutcomes(outcomes);
  }

  /** See {@link BranchRepository.listBranchOutcomes}. */
  listBranchOutcomes(groupKey: string): Promise<BranchItem[]> {
    return this.branches.listBranchOutcomes(groupKey);
  }

  // --- Audit events (AuditRepository) ---------------------------------------------------------

  /** See {@link AuditRepository.writeAudit}. */
  writeAudit<T extends AuditEventInput>(event: T): Promise<AuditItem> {
    return this.audit.writeAudit(event);
  }

  /** See {@link AuditRepository.writeAuditOnce}. */
  writeAuditOnce<T extends AuditEventInput>(event: T, dedupId: string): Promise<boolean> {
    return this.audit.writeAuditOnce(event, dedupId);
  }

  /** See {@link AuditRepository.listAuditEvents}. */
  listAuditEvents(day: string, limit?: number): Promise<AuditItem[]> {
    return this.audit.listAuditEvents(day, limit);
  }

  // --- DR lock and backup records (DrRepository) ----------------------------------------------

  /** See {@link DrRepository.getLock}. */
  getLock(name = 'DR'): Promise<LockItem | undefined> {
    return this.dr.getLock(name);
  }

  /** See {@link DrRepository.acquireLock}. */
  acquireLock(owner: string, ttlSec: number, name = 'DR'): Promise<LockResult> {
    return this.dr.acquireLock(owner, ttlSec, name);
  }

  /** See {@link DrRepository.releaseLock}. */
  releaseLock(owner: string, name = 'DR'): Promise<boolean> {
    return this.dr.releaseLock(owner, name);
  }

  /** See {@link DrRepository.recordBackup}. */
  recordBackup<T extends BackupRecordInput>(record: T): Promise<BackupItem<T>> {
    return this.dr.recordBackup(record);
  }

  /** See {@link DrRepository.listBackups}. */
  listBackups<T extends BackupRecordInput = BackupRecordInput>(
    site: SiteName,
    limit?: number,
  ): Promise<BackupItem<T>[]> {
    return this.dr.listBackups<T>(site, limit);
  }

  /** See {@link DrRepository.markCleanupPending}. */
  markCleanupPending(site: SiteName, at: string, pending = true): Promise<boolean> {
    return this.dr.markCleanupPending(site, at, pending);
  }
}
