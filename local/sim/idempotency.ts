/**
 * Powertools idempotency's persistence layer in memory, for the checker: the same conditions as
 * its DynamoDB layer (a record may be written when absent, expired, or in progress past its
 * in-progress expiry), atomic after a scheduler gate, and kept across container crashes (it is
 * the idempotency table). Powertools stamps its timestamps with `Date.now`, and the conditions
 * compare with `Date.now` too, as its DynamoDB layer does; a checker schedule points `Date.now`
 * at its virtual clock while it runs.
 */
import {
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
} from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';

interface Stored {
  status: string;
  expiryTimestamp?: number;
  inProgressExpiryTimestamp?: number;
  responseData?: unknown;
  payloadHash?: string;
}

/** The idempotency table of one simulated deployment. */
export class MemoryIdempotencyLayer extends BasePersistenceLayer {
  readonly records = new Map<string, Stored>();

  constructor(private readonly gate: () => Promise<void>) {
    super();
  }

  private toRecord(key: string, s: Stored): IdempotencyRecord {
    return new IdempotencyRecord({
      idempotencyKey: key,
      status: s.status as never,
      ...(s.expiryTimestamp !== undefined ? { expiryTimestamp: s.expiryTimestamp } : {}),
      ...(s.inProgressExpiryTimestamp !== undefined
        ? { inProgressExpiryTimestamp: s.inProgressExpiryTimestamp }
        : {}),
      ...(s.responseData !== undefined ? { responseData: s.responseData as never } : {}),
      ...(s.payloadHash !== undefined ? { payloadHash: s.payloadHash } : {}),
    });
  }

  protected async _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    await this.gate();
    const s = this.records.get(idempotencyKey);
    if (!s) throw new IdempotencyItemNotFoundError();
    return this.toRecord(idempotencyKey, structuredClone(s));
  }

  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    await this.gate();
    const existing = this.records.get(record.idempotencyKey);
    const now = Date.now();
    const writable =
      !existing ||
      (existing.expiryTimestamp !== undefined && existing.expiryTimestamp < now / 1000) ||
      (existing.status === 'INPROGRESS' &&
        existing.inProgressExpiryTimestamp !== undefined &&
        existing.inProgressExpiryTimestamp < now);
    if (!writable) {
      throw new IdempotencyItemAlreadyExistsError(
        `Failed to put record for already existing idempotency key: ${record.idempotencyKey}`,
        this.toRecord(record.idempotencyKey, structuredClone(existing)),
      );
    }
    this.records.set(record.idempotencyKey, {
      status: record.getStatus(),
      ...(record.expiryTimestamp !== undefined ? { expiryTimestamp: record.expiryTimestamp } : {}),
      ...(record.inProgressExpiryTimestamp !== undefined
        ? { inProgressExpiryTimestamp: record.inProgressExpiryTimestamp }
        : {}),
      ...(record.payloadHash !== undefined ? { payloadHash: record.payloadHash } : {}),
    });
  }

  protected async _updateRecord(record: IdempotencyRecord): Promise<void> {
    await this.gate();
    const existing = this.records.get(record.idempotencyKey) ?? { status: record.getStatus() };
    this.records.set(record.idempotencyKey, {
      ...existing,
      status: record.getStatus(),
      ...(record.expiryTimestamp !== undefined ? { expiryTimestamp: record.expiryTimestamp } : {}),
      ...(record.responseData !== undefined ? { responseData: structuredClone(record.responseData) } : {}),
    });
  }

  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    await this.gate();
    this.records.delete(record.idempotencyKey);
  }
}
