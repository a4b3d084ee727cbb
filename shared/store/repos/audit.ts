/**
 * Audit events (`AUDIT#<yyyy-mm-dd>` / `<iso time>#<id>`), deleted by TTL. Kept apart from the
 * state that must be global (DESIGN: items relying on TTL stay separable), so this repository
 * can later run over a table of its own. A notice's audit event is written once per dedup id,
 * so sending from the group's outbox (at least once) audits exactly once.
 */
import { redact, redactDeep } from '../../redact.js';
import { ValidationError } from '../../errors.js';
import { requirePositiveInt, requireText, type ItemStore } from '../item-store.js';
import type { AuditEventInput, AuditItem } from '../items.js';
import { ITEM_TYPES, keys } from '../table.js';
import { conditions, isConditionFailed, type TableItem } from '../versioned-table.js';

/** Options of {@link AuditRepository}. */
export interface AuditRepositoryOptions {
  /** Audit events expire after this many days. @default 90 */
  auditTtlDays?: number;
}

/** Audit events over the table port. */
export class AuditRepository {
  private readonly auditTtlDays: number;

  constructor(
    private readonly store: ItemStore,
    options: AuditRepositoryOptions = {},
  ) {
    this.auditTtlDays = options.auditTtlDays ?? 90;
    requirePositiveInt('auditTtlDays', this.auditTtlDays);
  }

  /**
   * Write an audit event that DynamoDB deletes after `auditTtlDays` (TTL `expiresAt`, epoch
   * seconds from the event's `at`). Accepts any event with `kind` and `at` (e.g. a notice).
   */
  async writeAudit<T extends AuditEventInput>(event: T): Promise<AuditItem> {
    const item = this.auditItem(event, this.store.runtime.id());
    await this.store.table.put(item as unknown as TableItem, conditions.none);
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
      await this.store.table.put(item as unknown as TableItem, conditions.absent);
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
      ...(event.reason === undefined ? {} : { reason: redact(event.reason) }),
      detail: redactDeep({ ...event }) as Record<string, unknown>,
      expiresAt: Math.floor(event.at / 1000) + this.auditTtlDays * 86_400,
    };
  }

  /** A day's audit events (`day` = `yyyy-mm-dd`, UTC), newest first. */
  listAuditEvents(day: string, limit?: number): Promise<AuditItem[]> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
      throw new ValidationError('day', [{ path: 'day', value: day, expected: 'a UTC date yyyy-mm-dd' }]);
    }
    return this.store.queryPartition<AuditItem>(keys.audit(`${day}T`, '').pk, { newestFirst: true, limit });
  }
}
