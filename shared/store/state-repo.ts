/**
 * The state repository over the one table (layout in ./table.ts). Every item carries a `version`
 * that each write raises; writes are conditional on the version (groups: on the `epoch`) they
 * read, so a concurrent writer is detected, re-read and re-applied: never lost, never applied
 * twice (see {@link StateRepository.update}).
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { HealthState } from '../domain/health.js';
import { acknowledgedVerdict } from '../domain/monitor.js';
import type {
  AlarmKind,
  CandidateSlot,
  Health,
  Pin,
  SiteName,
  SiteRole,
  Transition,
} from '../domain/model.js';
import { ConcurrentUpdateError, ValidationError } from '../errors.js';
import { ITEM_TYPES, keys, type ItemType } from './table.js';

// ---------------------------------------------------------------------------------------------
// Item shapes

/** The primary key of an item. */
export interface ItemKey {
  pk: string;
  sk: string;
}

/** Bookkeeping every item written by the repository carries. */
export interface VersionedItem extends ItemKey {
  type: ItemType;
  /** Raised by every write; conditional writes compare it. Starts at 1. */
  version: number;
  /** Epoch ms of the last write (the repository's clock). */
  updatedAt: number;
  /** Id of the write attempt that produced this version (detects our own landed write on retry). */
  writeId?: string;
}

/** The attributes an {@link StateRepository.update} function returns: the item without bookkeeping. */
export type ItemBody<T extends VersionedItem> = Omit<T, 'pk' | 'sk' | 'version' | 'updatedAt' | 'writeId'>;

/** The last transition of a target, kept on its health item (so a stream consumer sees it). */
export interface StoredTransition {
  from: Health;
  to: Health;
  reason: string;
  /** Epoch ms of the sample that caused it. */
  at: number;
}

/** A concentrator's health (`HEALTH#<groupKey>` / `<targetId>`): hysteresis state + context. */
export interface HealthItem extends VersionedItem {
  type: 'cpe-health';
  groupKey: string;
  tenantId: string;
  targetId: string;
  /** The CPE's name (logs, operators). */
  name: string;
  site: SiteName;
  slot: CandidateSlot;
  health: Health;
  /** Epoch ms of the last transition; null: never. */
  since: number | null;
  badStreak: number;
  cleanSince: number | null;
  /** The last transition (absent before the first one). */
  lastTransition?: StoredTransition;
}

/** A health write: the hysteresis state plus what the failover function needs from the stream. */
export interface HealthItemWrite {
  groupKey: string;
  tenantId: string;
  targetId: string;
  name: string;
  slot: CandidateSlot;
  site: SiteName;
  state: HealthState;
  /** Set on the write that makes a transition (absent on hysteresis-progress writes). */
  transition?: Transition;
}

/** A stored health state with the version its next write is conditional on. */
export interface StoredHealth {
  state: HealthState;
  version: number;
}

/** Outcome of {@link StateRepository.writeHealth}. */
export type HealthWriteResult =
  | { ok: true; version: number }
  | { ok: false; /** The item as stored now (undefined: absent). */ current: StoredHealth | undefined };

/** A group (`GROUPS` / `<groupKey>`): serving concentrator, epoch, pin, open alarms. */
export interface GroupItem extends VersionedItem {
  type: 'group';
  groupKey: string;
  tenantId: string;
  haName: string;
  /** Absent before the first election. */
  servingId?: string;
  /** Raised at every change of serving; 0 before the first. */
  epoch: number;
  pin?: Pin;
  alarms: AlarmKind[];
  /** Per-group override of the configured preemption. */
  preempt?: boolean;
  /** Why serving is what it is. */
  reason?: string;
  /** Epoch ms of the last change of serving. */
  changedAt?: number;
}

/** The next serving state for {@link StateRepository.compareAndSetServing}. */
export interface ServingUpdate {
  tenantId: string;
  haName: string;
  /** Undefined removes serving (no candidate ever UP). */
  servingId?: string;
  /** The new epoch: must be greater than the expected one. */
  epoch: number;
  reason: string;
  alarms: AlarmKind[];
  changedAt: number;
}

/** The group a pin/alarm write belongs to (used when the group item does not exist yet). */
export interface GroupIdentity {
  tenantId: string;
  haName: string;
}

/** A site's role (`SITES` / `DC|DR`). */
export interface SiteItem extends VersionedItem {
  type: 'site';
  site: SiteName;
  role: SiteRole;
  reason?: string;
  by?: string;
}

/** Site roles when no site item exists: DC ACTIVE, DR PASSIVE. */
export const DEFAULT_SITE_ROLES: Readonly<Record<SiteName, SiteRole>> = { DC: 'ACTIVE', DR: 'PASSIVE' };

/** A director's reachability as the health check recorded it (`DIRECTORS` / `DC|DR`). */
export interface DirectorStatus {
  site: SiteName;
  reachable: boolean;
  /** Epoch ms of the change. */
  since: number;
  /** Why it is unreachable (absent when reachable). */
  reason?: string;
  /** The health check's verdict that its own view is not trustworthy. */
  monitorBlind?: boolean;
  /**
   * The monitor-blind share rule's latch (shared/domain/monitor.ts `nextMonitorVerdict`): held
   * while many targets are still DOWN, cleared by recovery or {@link StateRepository.acknowledgeMonitorBlind}.
   */
  monitorBlindLatched?: boolean;
  /** Why the monitor is blind (absent when it is not). */
  monitorBlindReason?: string;
}

/** An operator's acknowledgement of MONITOR_BLIND (the `ack-monitor-blind` console function). */
export interface MonitorBlindAck {
  /** Epoch ms. */
  at: number;
  reason: string;
  by?: string;
}

/** The stored director status item. */
export interface DirectorItem extends VersionedItem, DirectorStatus {
  type: 'director';
  /** The last acknowledgement that cleared the latch. */
  acknowledged?: MonitorBlindAck;
}

/** Outcome of {@link StateRepository.acknowledgeMonitorBlind}. */
export interface MonitorBlindAckResult {
  /** Whether anything was blind (and so changed). */
  acknowledged: boolean;
  /** The director status items as stored after the call. */
  directors: DirectorItem[];
}

/** A director status as the failover service reads it (`at` = `since`). */
export interface DirectorState extends DirectorStatus {
  at: number;
}

/** The last re-point outcome of one branch. */
export interface BranchOutcome {
  groupKey: string;
  branchId: string;
  targetId: string;
  epoch: number;
  /** Epoch ms. */
  at: number;
  /** `ok`: now on target; `failed`: left to the drift reconcile; `stale`: a newer epoch won. */
  result: 'ok' | 'failed' | 'stale';
  /** The director actually changed something (false: already right). */
  changed: boolean;
  error?: string;
}

/** The stored branch outcome item (`BRANCH#<groupKey>` / `<branchId>`). */
export interface BranchItem extends ItemKey, BranchOutcome {
  type: 'branch';
  updatedAt: number;
}

/** What an audit event must carry; any further fields are kept under `detail`. */
export interface AuditEventInput {
  kind: string;
  /** Epoch ms. */
  at: number;
  groupKey?: string;
  tenantId?: string;
  reason?: string;
}

/** A stored audit event (`AUDIT#<yyyy-mm-dd>` / `<iso time>#<id>`), deleted by TTL. */
export interface AuditItem extends ItemKey {
  type: 'audit';
  id: string;
  kind: string;
  at: number;
  groupKey?: string;
  tenantId?: string;
  reason?: string;
  /** The whole event as given. */
  detail: Record<string, unknown>;
  /** TTL: epoch SECONDS. */
  expiresAt: number;
}

/** The DR workflow lock (`LOCK` / `<name>`). */
export interface LockItem extends VersionedItem {
  type: 'lock';
  name: string;
  /** Who holds it (e.g. the Step Functions execution ARN). */
  owner: string;
  /** Epoch ms it was taken. */
  acquiredAt: number;
  /** TTL: epoch SECONDS; an expired lock may be taken over. */
  expiresAt: number;
}

/** Outcome of {@link StateRepository.acquireLock}. */
export type LockResult =
  { acquired: true; lock: LockItem } | { acquired: false; holder: LockItem | undefined };

/** What a backup record must carry (`site` and the ISO time `at` form the key). */
export interface BackupRecordInput {
  site: SiteName;
  /** ISO time: the sort key. */
  at: string;
}

/** A stored backup record: the record's own fields plus bookkeeping. */
export type BackupItem<T extends BackupRecordInput = BackupRecordInput> = T &
  VersionedItem & {
    type: 'backup';
    /** Set by a failback: the next scheduled run deletes superseded files. */
    cleanupPending?: boolean;
  };

/** Result of {@link StateRepository.update}. */
export interface UpdateResult<T> {
  /** The item as stored after the call (undefined: absent and the function wrote nothing). */
  item: T | undefined;
  /** Whether this call wrote. */
  changed: boolean;
  /** Read–apply–write rounds used. */
  attempts: number;
}

/** Options of {@link StateRepository}. */
export interface StateRepositoryOptions {
  /** Audit events expire after this many days. @default 90 */
  auditTtlDays?: number;
  /** Read–apply–write rounds before {@link ConcurrentUpdateError}. @default 8 */
  maxAttempts?: number;
  /** Parallel queries in multi-partition reads. @default 8 */
  readConcurrency?: number;
}

// ---------------------------------------------------------------------------------------------

const BOOKKEEPING = new Set(['pk', 'sk', 'version', 'updatedAt', 'writeId']);

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException'
  );
}

/** A transaction cancelled because one of its conditions failed (another writer got there first). */
function isTransactionConflict(error: unknown): boolean {
  const cancelled =
    error instanceof TransactionCanceledException ||
    (error as { name?: string } | null)?.name === 'TransactionCanceledException';
  return (
    cancelled &&
    ((error as TransactionCanceledException).CancellationReasons?.some(
      (r) => r.Code === 'ConditionalCheckFailed',
    ) ??
      false)
  );
}

function requireText(field: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(field, [{ path: field, value, expected: 'a non-empty string' }]);
  }
}

function requirePositiveInt(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ValidationError(field, [{ path: field, value, expected: 'a positive integer' }]);
  }
}

/** Run `fn` over `items` with at most `limit` in flight, keeping order. */
async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function healthState(item: HealthItem): HealthState {
  return { health: item.health, badStreak: item.badStreak, cleanSince: item.cleanSince, since: item.since };
}

/**
 * The controller's state in the one table. Construct once per container (cheap) with the
 * container's DocumentClient (./dynamo.ts), the table name and a clock (epoch ms).
 */
export class StateRepository {
  private readonly auditTtlDays: number;
  private readonly maxAttempts: number;
  private readonly readConcurrency: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly clock: () => number = Date.now,
    options: StateRepositoryOptions = {},
  ) {
    requireText('tableName', tableName);
    this.auditTtlDays = options.auditTtlDays ?? 90;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.readConcurrency = options.readConcurrency ?? 8;
    requirePositiveInt('auditTtlDays', this.auditTtlDays);
    requirePositiveInt('maxAttempts', this.maxAttempts);
    requirePositiveInt('readConcurrency', this.readConcurrency);
  }

  // --- Generic --------------------------------------------------------------------------------

  /** Read one item (strongly consistent). */
  async get<T extends object>(key: ItemKey): Promise<T | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return Item as T | undefined;
  }

  /** Every item of a partition (all pages), in sort-key order unless `newestFirst`. */
  async queryPartition<T extends object>(
    pk: string,
    options: { newestFirst?: boolean; limit?: number } = {},
  ): Promise<T[]> {
    const items: T[] = [];
    let start: QueryCommandInput['ExclusiveStartKey'];
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ConsistentRead: true,
          ScanIndexForward: !options.newestFirst,
          ExclusiveStartKey: start,
          Limit: options.limit === undefined ? undefined : options.limit - items.length,
        }),
      );
      items.push(...((page.Items ?? []) as T[]));
      start = page.LastEvaluatedKey;
    } while (start && (options.limit === undefined || items.length < options.limit));
    return items;
  }

  /**
   * The core primitive: read the item, apply the pure function `fn` to it, and write the result
   * conditioned on the version read (absent: on not existing). When another writer got there
   * first (ConditionalCheckFailedException), re-read and re-apply, up to `maxAttempts` rounds,
   * then throw {@link ConcurrentUpdateError}. `fn` returning undefined means "no change": nothing
   * is written. `fn` may be called several times and must have no side effects.
   *
   * Never applied twice: each write attempt carries a fresh `writeId`; if a write landed but its
   * answer was lost (an SDK retry then fails the condition), the re-read shows our `writeId` and
   * the call returns instead of applying `fn` again. The returned body replaces the whole item.
   */
  async update<T extends VersionedItem>(
    key: ItemKey,
    fn: (current: T | undefined) => ItemBody<T> | undefined,
  ): Promise<UpdateResult<T>> {
    let lastError: unknown;
    let pendingWriteId: string | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const current = await this.get<T>(key);
      if (pendingWriteId !== undefined && current?.writeId === pendingWriteId) {
        return { item: current, changed: true, attempts: attempt - 1 };
      }
      const body = fn(current);
      if (body === undefined) return { item: current, changed: false, attempts: attempt };
      const writeId = randomUUID();
      const attributes = Object.fromEntries(Object.entries(body).filter(([name]) => !BOOKKEEPING.has(name)));
      const next = {
        ...attributes,
        ...key,
        version: (current?.version ?? 0) + 1,
        updatedAt: this.clock(),
        writeId,
      } as unknown as T;
      pendingWriteId = writeId;
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: next,
            ...(current
              ? { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': current.version } }
              : { ConditionExpression: 'attribute_not_exists(pk)' }),
          }),
        );
        return { item: next, changed: true, attempts: attempt };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        lastError = error;
      }
    }
    // The last write may have landed with its answer lost: one more read settles it.
    const current = await this.get<T>(key);
    if (pendingWriteId !== undefined && current?.writeId === pendingWriteId) {
      return { item: current, changed: true, attempts: this.maxAttempts };
    }
    throw new ConcurrentUpdateError(
      `${key.pk}/${key.sk}: still conflicting after ${this.maxAttempts} read-apply-write attempts`,
      { cause: lastError },
    );
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
   */
  async writeHealth(item: HealthItemWrite, expectedVersion: number | undefined): Promise<HealthWriteResult> {
    requireText('groupKey', item.groupKey);
    requireText('targetId', item.targetId);
    const key = keys.health(item.groupKey, item.targetId);
    const values: Record<string, unknown> = {
      ':type': ITEM_TYPES.health,
      ':groupKey': item.groupKey,
      ':tenantId': item.tenantId,
      ':targetId': item.targetId,
      ':name': item.name,
      ':site': item.site,
      ':slot': item.slot,
      ':health': item.state.health,
      ':since': item.state.since,
      ':badStreak': item.state.badStreak,
      ':cleanSince': item.state.cleanSince,
      ':next': (expectedVersion ?? 0) + 1,
      ':now': this.clock(),
      ':writeId': randomUUID(),
    };
    const sets = [
      '#type = :type',
      'groupKey = :groupKey',
      'tenantId = :tenantId',
      'targetId = :targetId',
      '#name = :name',
      'site = :site',
      'slot = :slot',
      'health = :health',
      'since = :since',
      'badStreak = :badStreak',
      'cleanSince = :cleanSince',
      'version = :next',
      'updatedAt = :now',
      'writeId = :writeId',
    ];
    if (item.transition) {
      const t = item.transition;
      values[':transition'] = {
        from: t.from,
        to: t.to,
        reason: t.reason,
        at: t.at,
      } satisfies StoredTransition;
      sets.push('lastTransition = :transition');
    }
    let condition = 'attribute_not_exists(pk)';
    if (expectedVersion !== undefined) {
      values[':expected'] = expectedVersion;
      condition = 'version = :expected';
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#type': 'type', '#name': 'name' },
          ExpressionAttributeValues: values,
        }),
      );
      return { ok: true, version: (expectedVersion ?? 0) + 1 };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const current = await this.get<HealthItem>(key);
      if (current && current.writeId === values[':writeId']) return { ok: true, version: current.version };
      return { ok: false, current: current && { state: healthState(current), version: current.version } };
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
      return {
        type: ITEM_TYPES.health,
        groupKey: item.groupKey,
        tenantId: item.tenantId,
        targetId: item.targetId,
        name: item.name,
        site: item.site,
        slot: item.slot,
        health: s.health,
        since: s.since,
        badStreak: s.badStreak,
        cleanSince: s.cleanSince,
        lastTransition: t ? { from: t.from, to: t.to, reason: t.reason, at: t.at } : current?.lastTransition,
      };
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
   * Write serving + epoch only if the stored epoch is still `expectedEpoch` (an absent group
   * counts as epoch 0). Resolves false when another writer got there first; the caller re-reads
   * and re-decides. Pin and preempt are kept.
   */
  async compareAndSetServing(groupKey: string, expectedEpoch: number, next: ServingUpdate): Promise<boolean> {
    requireText('groupKey', groupKey);
    if (!Number.isInteger(expectedEpoch) || expectedEpoch < 0) {
      throw new ValidationError('expectedEpoch', [
        { path: 'expectedEpoch', value: expectedEpoch, expected: 'an integer ≥ 0' },
      ]);
    }
    if (!Number.isInteger(next.epoch) || next.epoch <= expectedEpoch) {
      throw new ValidationError('next.epoch', [
        {
          path: 'next.epoch',
          value: next.epoch,
          expected: `an integer greater than expectedEpoch (${expectedEpoch})`,
        },
      ]);
    }
    const { values, sets } = this.groupWriteBase(groupKey, next);
    Object.assign(values, {
      ':epoch': next.epoch,
      ':expected': expectedEpoch,
      ':reason': next.reason,
      ':alarms': next.alarms,
      ':changedAt': next.changedAt,
    });
    sets.push('epoch = :epoch', '#reason = :reason', 'alarms = :alarms', 'changedAt = :changedAt');
    if (next.servingId !== undefined) {
      values[':servingId'] = next.servingId;
      sets.push('servingId = :servingId');
    }
    const update = `SET ${sets.join(', ')}${next.servingId === undefined ? ' REMOVE servingId' : ''}`;
    const condition =
      expectedEpoch === 0 ? '(attribute_not_exists(epoch) OR epoch = :expected)' : 'epoch = :expected';
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.group(groupKey),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#type': 'type', '#reason': 'reason' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Set (or with undefined, clear) a group's pin. Serving and epoch are untouched. */
  setPin(groupKey: string, pin: Pin | undefined, group: GroupIdentity): Promise<GroupItem> {
    return this.patchGroup(groupKey, group, pin === undefined ? { remove: ['pin'] } : { set: { pin } });
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
    if (!Number.isInteger(expectedEpoch) || expectedEpoch < 0) {
      throw new ValidationError('setAlarms', [
        { path: 'expectedEpoch', value: expectedEpoch, expected: 'an integer >= 0' },
      ]);
    }
    const item = await this.patchGroup(
      groupKey,
      group,
      { set: { alarms: [...new Set(alarms)] } },
      expectedEpoch,
    );
    return item !== undefined;
  }

  /** Set (or with undefined, clear) a group's preemption override. */
  setPreempt(groupKey: string, preempt: boolean | undefined, group: GroupIdentity): Promise<GroupItem> {
    return this.patchGroup(
      groupKey,
      group,
      preempt === undefined ? { remove: ['preempt'] } : { set: { preempt } },
    );
  }

  /**
   * What every group write sets (type, identity, a raised version, the clock), as SET clauses
   * and their values; `#type` must be among the write's attribute names.
   */
  private groupWriteBase(
    groupKey: string,
    group: GroupIdentity,
  ): { values: Record<string, unknown>; sets: string[] } {
    return {
      values: {
        ':type': ITEM_TYPES.group,
        ':groupKey': groupKey,
        ':tenantId': group.tenantId,
        ':haName': group.haName,
        ':zero': 0,
        ':one': 1,
        ':now': this.clock(),
      },
      sets: [
        '#type = :type',
        'groupKey = :groupKey',
        'tenantId = :tenantId',
        'haName = :haName',
        'version = if_not_exists(version, :zero) + :one',
        'updatedAt = :now',
      ],
    };
  }

  /**
   * Set/remove some group attributes atomically (creating the group at epoch 0 with no alarms
   * when it does not exist) without touching the rest.
   */
  private async patchGroup(
    groupKey: string,
    group: GroupIdentity,
    patch: { set?: Record<string, unknown>; remove?: string[] },
  ): Promise<GroupItem>;
  /** The same, only if the stored epoch is `expectedEpoch`; undefined (nothing written) if not. */
  private async patchGroup(
    groupKey: string,
    group: GroupIdentity,
    patch: { set?: Record<string, unknown>; remove?: string[] },
    expectedEpoch: number,
  ): Promise<GroupItem | undefined>;
  private async patchGroup(
    groupKey: string,
    group: GroupIdentity,
    patch: { set?: Record<string, unknown>; remove?: string[] },
    expectedEpoch?: number,
  ): Promise<GroupItem | undefined> {
    requireText('groupKey', groupKey);
    requireText('tenantId', group.tenantId);
    requireText('haName', group.haName);
    const names: Record<string, string> = { '#type': 'type' };
    const { values, sets } = this.groupWriteBase(groupKey, group);
    sets.push('epoch = if_not_exists(epoch, :zero)');
    if (!patch.set || !('alarms' in patch.set)) {
      values[':none'] = [];
      sets.push('alarms = if_not_exists(alarms, :none)');
    }
    for (const [i, [name, value]] of Object.entries(patch.set ?? {}).entries()) {
      names[`#s${i}`] = name;
      values[`:s${i}`] = value;
      sets.push(`#s${i} = :s${i}`);
    }
    const removes = (patch.remove ?? []).map((name, i) => {
      names[`#r${i}`] = name;
      return `#r${i}`;
    });
    let condition: string | undefined;
    if (expectedEpoch !== undefined) {
      values[':expected'] = expectedEpoch;
      condition =
        expectedEpoch === 0 ? '(attribute_not_exists(epoch) OR epoch = :expected)' : 'epoch = :expected';
    }
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.group(groupKey),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ...(condition ? { ConditionExpression: condition } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes as GroupItem;
    } catch (error) {
      if (expectedEpoch !== undefined && isConditionFailure(error)) return undefined;
      throw error;
    }
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
   * Set site roles in one transaction (both items or neither). With `expectedVersions`, each
   * listed site is written only if its stored version is still that (undefined: never written),
   * and a conflict resolves false. Without, the current versions are read, sites whose role is
   * already right are skipped (no stream record), and a conflict is re-read and re-applied.
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
    const sites = Object.keys(roles) as SiteName[];
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      let expected: Partial<Record<SiteName, number | undefined>>;
      let toWrite = sites;
      if (options.expectedVersions) {
        expected = options.expectedVersions;
      } else {
        const current = await this.getSiteItems();
        expected = Object.fromEntries(sites.map((s) => [s, current[s]?.version]));
        toWrite = sites.filter((s) => current[s]?.role !== roles[s]);
      }
      if (toWrite.length === 0) return true;
      const now = this.clock();
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: toWrite.map((site) => {
              const version = expected[site];
              const item: SiteItem = {
                ...keys.site(site),
                type: ITEM_TYPES.site,
                site,
                role: roles[site] as SiteRole,
                version: (version ?? 0) + 1,
                updatedAt: now,
                ...(options.reason === undefined ? {} : { reason: options.reason }),
                ...(options.by === undefined ? {} : { by: options.by }),
              };
              return {
                Put: {
                  TableName: this.tableName,
                  Item: item,
                  ...(version === undefined
                    ? { ConditionExpression: 'attribute_not_exists(pk)' }
                    : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': version } }),
                },
              };
            }),
          }),
        );
        return true;
      } catch (error) {
        if (!isTransactionConflict(error)) throw error;
        if (options.expectedVersions) return false;
      }
    }
    throw new ConcurrentUpdateError(`site roles: still conflicting after ${this.maxAttempts} attempts`);
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
   * Record a director's status, only when it changes: the write is conditional on the stored
   * `reachable` (and `monitorBlind`, when given) differing. Resolves whether it wrote.
   */
  async writeDirectorStatus(status: DirectorStatus): Promise<boolean> {
    const names: Record<string, string> = { '#type': 'type', '#reason': 'reason' };
    const values: Record<string, unknown> = {
      ':type': ITEM_TYPES.director,
      ':site': status.site,
      ':reachable': status.reachable,
      ':since': status.since,
      ':zero': 0,
      ':one': 1,
      ':now': this.clock(),
    };
    const sets = [
      '#type = :type',
      'site = :site',
      'reachable = :reachable',
      'since = :since',
      'version = if_not_exists(version, :zero) + :one',
      'updatedAt = :now',
    ];
    const removes: string[] = [];
    if (status.reason === undefined) removes.push('#reason');
    else {
      values[':reason'] = status.reason;
      sets.push('#reason = :reason');
    }
    let condition = 'attribute_not_exists(pk) OR reachable <> :reachable';
    if (status.monitorBlind !== undefined) {
      values[':blind'] = status.monitorBlind;
      sets.push('monitorBlind = :blind');
      condition += ' OR attribute_not_exists(monitorBlind) OR monitorBlind <> :blind';
      // The reason rides along with a verdict change; it alone never causes a write.
      if (status.monitorBlindReason === undefined) removes.push('monitorBlindReason');
      else {
        values[':blindReason'] = status.monitorBlindReason;
        sets.push('monitorBlindReason = :blindReason');
      }
    }
    if (status.monitorBlindLatched !== undefined) {
      values[':latched'] = status.monitorBlindLatched;
      sets.push('monitorBlindLatched = :latched');
      condition += ' OR attribute_not_exists(monitorBlindLatched) OR monitorBlindLatched <> :latched';
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.director(status.site),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * An operator's acknowledgement of MONITOR_BLIND: clear the share rule's latch on every
   * director status item, in one transaction conditional on the versions read (a concurrent
   * health-check write is re-read and the acknowledgement re-applied). Blindness from an
   * unreachable director stays (`acknowledgedVerdict`): it ends when the director answers.
   * Items that are not blind are left alone; nothing blind: nothing is written.
   */
  async acknowledgeMonitorBlind(ack: MonitorBlindAck): Promise<MonitorBlindAckResult> {
    requireText('reason', ack.reason);
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const items = await this.queryPartition<DirectorItem>(keys.directorsPartition);
      const blind = items.filter((i) => i.monitorBlind === true || i.monitorBlindLatched === true);
      if (blind.length === 0) return { acknowledged: false, directors: items };
      const verdict = acknowledgedVerdict(items.some((i) => !i.reachable));
      const now = this.clock();
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: blind.map((item) => ({
              Update: {
                TableName: this.tableName,
                Key: keys.director(item.site),
                UpdateExpression:
                  'SET monitorBlind = :blind, monitorBlindLatched = :false, acknowledged = :ack, ' +
                  'version = version + :one, updatedAt = :now' +
                  (verdict.reason ? ', monitorBlindReason = :why' : ' REMOVE monitorBlindReason'),
                ConditionExpression: 'version = :v',
                ExpressionAttributeValues: {
                  ':blind': verdict.blind,
                  ':false': false,
                  ':ack': { at: ack.at, reason: ack.reason, ...(ack.by === undefined ? {} : { by: ack.by }) },
                  ':one': 1,
                  ':now': now,
                  ':v': item.version,
                  ...(verdict.reason ? { ':why': verdict.reason } : {}),
                },
              },
            })),
          }),
        );
        return {
          acknowledged: true,
          directors: await this.queryPartition<DirectorItem>(keys.directorsPartition),
        };
      } catch (error) {
        if (!isTransactionConflict(error)) throw error;
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
    const now = this.clock();
    const items: BranchItem[] = [...latest.values()].map((o) => ({
      ...o,
      ...keys.branch(o.groupKey, o.branchId),
      type: ITEM_TYPES.branch,
      updatedAt: now,
    }));
    for (let i = 0; i < items.length; i += 25) {
      let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let round = 0; requests.length > 0; round++) {
        if (round >= 8)
          throw new ConcurrentUpdateError(`branch outcomes: ${requests.length} items left unprocessed`);
        if (round > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** round));
        const { UnprocessedItems } = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = (UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
      }
    }
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
    requireText('kind', event.kind);
    if (!Number.isFinite(event.at)) {
      throw new ValidationError('audit event', [
        { path: 'at', value: event.at, expected: 'epoch milliseconds' },
      ]);
    }
    const id = randomUUID();
    const iso = new Date(event.at).toISOString();
    const item: AuditItem = {
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
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item }));
    return item;
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
    const now = this.clock();
    const nowSec = Math.floor(now / 1000);
    const current = await this.getLock(name);
    const lock: LockItem = {
      ...keys.lock(name),
      type: ITEM_TYPES.lock,
      name,
      owner,
      acquiredAt: current?.owner === owner && current.expiresAt > nowSec ? current.acquiredAt : now,
      expiresAt: nowSec + ttlSec,
      version: (current?.version ?? 0) + 1,
      updatedAt: now,
    };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: lock,
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :nowSec OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':nowSec': nowSec, ':owner': owner },
        }),
      );
      return { acquired: true, lock };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return { acquired: false, holder: await this.getLock(name) };
    }
  }

  /** Release the lock if `owner` holds it. Resolves whether it did (false: someone else's or free). */
  async releaseLock(owner: string, name = 'DR'): Promise<boolean> {
    requireText('owner', owner);
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.lock(name),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
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
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.backup(site, at),
          UpdateExpression: 'SET cleanupPending = :p, version = version + :one, updatedAt = :now',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':p': pending, ':one': 1, ':now': this.clock() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
