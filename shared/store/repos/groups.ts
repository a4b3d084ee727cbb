/**
 * Group items (`GROUPS` / `<groupKey>`): serving concentrator, epoch, pin, alarms, preemption and
 * the notice outbox. Every write is a read–apply–conditional-put ({@link ItemStore.update});
 * serving changes, alarms and the outbox are further conditional on the epoch the caller read.
 */
import type { AlarmKind, Pin } from '../../domain/model.js';
import { ValidationError } from '../../errors.js';
import { bodyOf, requireText, type ItemBody, type ItemStore, type UpdateResult } from '../item-store.js';
import type { GroupIdentity, GroupItem, ServingUpdate } from '../items.js';
import { ITEM_TYPES, keys } from '../table.js';

/** Throw a {@link ValidationError} unless `value` is an integer ≥ 0 (an epoch). */
function requireEpoch(what: string, path: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new ValidationError(what, [{ path, value, expected: 'an integer >= 0' }]);
  }
}

/** Groups over the table port. */
/** What else a serving write requires of the stored group, besides its epoch. */
export interface ServingGuard {
  /** The pin the decision read (undefined: none); the write is refused if the stored one differs. */
  pin: Pin | undefined;
}

/** Two pins are the same pin (an absent and an undefined pin are both none). */
export function samePin(a: Pin | undefined, b: Pin | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return JSON.stringify(a, Object.keys(a).sort()) === JSON.stringify(b, Object.keys(b).sort());
}

export class GroupRepository {
  constructor(private readonly store: ItemStore) {}

  /** One group (undefined: never elected). */
  getGroup(groupKey: string): Promise<GroupItem | undefined> {
    requireText('groupKey', groupKey);
    return this.store.get<GroupItem>(keys.group(groupKey));
  }

  /** Every group. */
  listGroups(): Promise<GroupItem[]> {
    return this.store.queryPartition<GroupItem>(keys.groupsPartition);
  }

  /**
   * Write serving + epoch (and, when given, the notice outbox, in the same conditional write)
   * only if the stored epoch is still `expectedEpoch` (an absent group counts as epoch 0).
   * Resolves false when another writer got there first; the caller re-reads and re-decides. Pin
   * and preempt are kept; so is the stored outbox when `next.outbox` is undefined. A concurrent
   * write that leaves the epoch alone (a pin) is re-read and the change re-applied.
   */
  async compareAndSetServing(
    groupKey: string,
    expectedEpoch: number,
    next: ServingUpdate,
    guard?: ServingGuard,
  ): Promise<boolean> {
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
    const result = await this.writeAtEpoch(
      groupKey,
      next,
      expectedEpoch,
      (current) => ({
        servingId: next.servingId,
        epoch: next.epoch,
        reason: next.reason,
        alarms: next.alarms,
        changedAt: next.changedAt,
        outbox: next.outbox ?? current?.outbox,
      }),
      // The pin the decision was made on must still be the stored one (a pin or unpin changes no
      // epoch): a decision on a pin withdrawn meanwhile must not land.
      guard ? (current) => samePin(current?.pin, guard.pin) : undefined,
    );
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
    const result = await this.store.update<GroupItem>(keys.group(groupKey), (current) => {
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
    const result = await this.writeAtEpoch(groupKey, group, expectedEpoch, () => patch);
    return result.changed ? result.item : undefined;
  }

  /**
   * Read–apply–write the group (creating it when absent) with its identity and `change(current)`
   * over the stored attributes, only while its epoch is `expectedEpoch` (undefined: any epoch).
   */
  private writeAtEpoch(
    groupKey: string,
    group: GroupIdentity,
    expectedEpoch: number | undefined,
    change: (current: GroupItem | undefined) => Partial<ItemBody<GroupItem>>,
    holds?: (current: GroupItem | undefined) => boolean,
  ): Promise<UpdateResult<GroupItem>> {
    return this.store.update<GroupItem>(keys.group(groupKey), (current) => {
      if (expectedEpoch !== undefined && (current?.epoch ?? 0) !== expectedEpoch) return undefined;
      if (holds && !holds(current)) return undefined;
      return {
        ...bodyOf(current),
        type: ITEM_TYPES.group,
        groupKey,
        tenantId: group.tenantId,
        haName: group.haName,
        epoch: current?.epoch ?? 0,
        alarms: current?.alarms ?? [],
        ...change(current),
      };
    });
  }

  /** Read–apply–write a group (see {@link update}); for changes the specific methods do not cover. */
  updateGroup(
    groupKey: string,
    fn: (current: GroupItem | undefined) => ItemBody<GroupItem> | undefined,
  ): Promise<UpdateResult<GroupItem>> {
    requireText('groupKey', groupKey);
    return this.store.update<GroupItem>(keys.group(groupKey), fn);
  }
}
