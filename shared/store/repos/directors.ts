/**
 * Director status items (`DIRECTORS` / `DC|DR`): each director's reachability and the health
 * check's monitor-blind verdict, as the failover service's monitor-blind guard reads them.
 */
import { acknowledgedVerdict } from '../../domain/monitor.js';
import type { SiteName } from '../../domain/model.js';
import { ConcurrentUpdateError } from '../../errors.js';
import { bodyOf, requireText, type ItemStore } from '../item-store.js';
import type {
  DirectorItem,
  DirectorState,
  DirectorStatus,
  MonitorBlindAck,
  MonitorBlindAckResult,
} from '../items.js';
import { ITEM_TYPES, keys } from '../table.js';
import { conditions, isConditionFailed, type TableItem } from '../versioned-table.js';

/** Director status over the table port. */
export class DirectorRepository {
  constructor(private readonly store: ItemStore) {}

  /** A site's director status as recorded (undefined: never recorded). */
  loadDirectorStatus(site: SiteName): Promise<DirectorItem | undefined> {
    return this.store.get<DirectorItem>(keys.director(site));
  }

  /** Both directors' statuses (`at` = `since`, for the failover service). */
  async listDirectorStates(): Promise<(DirectorItem & DirectorState)[]> {
    const items = await this.store.queryPartition<DirectorItem>(keys.directorsPartition);
    return items.map((item) => ({ ...item, at: item.since }));
  }

  /**
   * Record a director's status, only when it changes: written only if the stored `reachable`
   * (and `monitorBlind`/`monitorBlindLatched`/`lostAt`, when given) differ. Other attributes (the
   * last acknowledgement; while unreachable, `lostAt`) are kept; a reachable status clears
   * `lostAt`. Resolves whether it wrote (false: a concurrent run recorded the same already).
   */
  async writeDirectorStatus(status: DirectorStatus): Promise<boolean> {
    const result = await this.store.update<DirectorItem>(keys.director(status.site), (current) => {
      const changed =
        current === undefined ||
        current.reachable !== status.reachable ||
        (status.monitorBlind !== undefined && current.monitorBlind !== status.monitorBlind) ||
        (status.monitorBlindLatched !== undefined &&
          current.monitorBlindLatched !== status.monitorBlindLatched) ||
        (status.lostAt !== undefined && current.lostAt !== status.lostAt);
      if (!changed) return undefined;
      const body = bodyOf(current);
      // Reachable again: the loss and its evidence end with it.
      if (status.reachable) {
        delete body.lostAt;
        delete body.lastAnsweredAt;
      }
      return {
        ...body,
        type: ITEM_TYPES.director,
        site: status.site,
        reachable: status.reachable,
        since: status.since,
        reason: status.reason,
        ...(status.lostAt === undefined ? {} : { lostAt: status.lostAt }),
        ...(status.lastAnsweredAt === undefined ? {} : { lastAnsweredAt: status.lastAnsweredAt }),
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
   * items it has not acknowledged yet (its own writes are recognised by `writeId`). An
   * unreachable director is not part of this verdict (it freezes its own site, see
   * shared/domain/blindness.ts). Items that are not blind are left alone; nothing blind: nothing
   * is written.
   */
  async acknowledgeMonitorBlind(ack: MonitorBlindAck): Promise<MonitorBlindAckResult> {
    requireText('reason', ack.reason);
    const mine = new Set<string>();
    let acknowledged = false;
    for (let attempt = 1; attempt <= this.store.maxAttempts; attempt++) {
      const items = await this.store.queryPartition<DirectorItem>(keys.directorsPartition);
      const blind = items.filter(
        (i) =>
          (i.monitorBlind === true || i.monitorBlindLatched === true) &&
          !(i.writeId !== undefined && mine.has(i.writeId)),
      );
      if (blind.length === 0) return { acknowledged, directors: items };
      const verdict = acknowledgedVerdict();
      let conflict = false;
      for (const item of blind) {
        const writeId = this.store.runtime.id();
        mine.add(writeId);
        const next: DirectorItem = {
          ...item,
          monitorBlind: verdict.blind,
          monitorBlindLatched: false,
          acknowledged: { at: ack.at, reason: ack.reason, ...(ack.by === undefined ? {} : { by: ack.by }) },
          version: item.version + 1,
          updatedAt: this.store.runtime.now(),
          writeId,
        };
        if (verdict.reason) next.monitorBlindReason = verdict.reason;
        else delete next.monitorBlindReason;
        try {
          await this.store.table.put(next as unknown as TableItem, conditions.version(item.version));
          acknowledged = true;
        } catch (error) {
          if (!isConditionFailed(error)) throw error;
          conflict = true;
          break;
        }
      }
      if (!conflict) {
        return {
          acknowledged,
          directors: await this.store.queryPartition<DirectorItem>(keys.directorsPartition),
        };
      }
    }
    throw new ConcurrentUpdateError(
      `monitor-blind acknowledgement: director status kept changing for ${this.store.maxAttempts} attempts`,
    );
  }
}
