/**
 * Which groups a state-table stream record affects. Health transitions affect their group;
 * a site-role change or a change of a director's reachability affects every group.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { ValidationError } from '../errors.js';
import { ITEM_TYPES, keys } from '../store/table.js';

/** What a record means for the failover: nothing, one group, or every group. */
export type StreamTrigger =
  | { scope: 'none'; why: string }
  | { scope: 'group'; groupKey: string; why: string }
  | { scope: 'all'; why: string };

type Image = Record<string, unknown> | undefined;
const nested = (img: Image, key: string): unknown => {
  const state = img?.state;
  return state !== null && typeof state === 'object' ? (state as Record<string, unknown>)[key] : undefined;
};

/**
 * Values whose change matters, per item type (health may be stored flat or inside the
 * hysteresis `state`).
 */
const WATCHED: Record<string, Record<string, (img: Image) => unknown>> = {
  [ITEM_TYPES.health]: { health: (img) => img?.health ?? nested(img, 'health') },
  [ITEM_TYPES.site]: { role: (img) => img?.role },
  [ITEM_TYPES.director]: { reachable: (img) => img?.reachable, monitorBlind: (img) => img?.monitorBlind },
};

function image(raw: unknown): Record<string, unknown> | undefined {
  return raw ? unmarshall(raw as Record<string, AttributeValue>) : undefined;
}

/**
 * Classify one stream record. Throws ValidationError for a record that cannot be read (it then
 * fails alone in the batch); records of other item types or without a watched change are `none`.
 */
export function triggerOf(record: DynamoDBRecord): StreamTrigger {
  const ddb = record.dynamodb;
  const newImage = image(ddb?.NewImage);
  const oldImage = image(ddb?.OldImage);
  const keyImage = image(ddb?.Keys) ?? newImage ?? oldImage;
  const pk = keyImage?.pk;
  const sk = keyImage?.sk;
  if (typeof pk !== 'string' || typeof sk !== 'string') {
    throw new ValidationError('stream record', [
      { path: 'dynamodb.Keys', value: ddb?.Keys, expected: 'the table keys pk and sk (strings)' },
    ]);
  }
  const type = (newImage?.type ?? oldImage?.type) as string | undefined;
  const watched = type ? WATCHED[type] : undefined;
  if (!watched) return { scope: 'none', why: `item type ${String(type)} is not watched` };
  const changed = Object.entries(watched)
    .map(([name, read]) => ({ name, before: read(oldImage), after: read(newImage) }))
    .filter((c) => JSON.stringify(c.before) !== JSON.stringify(c.after));
  if (changed.length === 0) return { scope: 'none', why: `${type} ${pk}/${sk}: no watched change` };
  const why = `${type} ${sk}: ${changed
    .map((c) => `${c.name} ${String(c.before ?? '-')} → ${String(c.after ?? '-')}`)
    .join(', ')}`;
  if (type === ITEM_TYPES.health) {
    const prefix = keys.healthPartition('');
    if (!pk.startsWith(prefix) || pk.length === prefix.length) {
      throw new ValidationError('stream record', [
        { path: 'dynamodb.Keys.pk', value: pk, expected: `"${prefix}<groupKey>"` },
      ]);
    }
    return { scope: 'group', groupKey: pk.slice(prefix.length), why };
  }
  return { scope: 'all', why };
}
