/**
 * Exact tag handling for Meraki tag-based VPN failover (issue 4), generalised to N hubs.
 *
 * Naming. The hubs of an organization are configured in failover order. Hub `i` has a role
 * word and two state tags, `<tagPrefix>_<role>_up` and `<tagPrefix>_<role>_down`:
 *
 * | index | role       | tags                                           |
 * | ----- | ---------- | ---------------------------------------------- |
 * | 0     | `primary`  | `london_primary_up` / `london_primary_down`    |
 * | 1     | `backup`   | `paris_backup_up` / `paris_backup_down`        |
 * | 2     | `backup2`  | `dublin_backup2_up` / `dublin_backup2_down`    |
 * | k ≥ 2 | `backup<k>`| `<prefix>_backup<k>_up` / `<prefix>_backup<k>_down` |
 *
 * The first two rows are exactly the reference's tags (`london_primary_up`, `paris_backup_down`),
 * so networks tagged for the old script keep working. Each third-party VPN peer is tagged with
 * its hub's `_up` tag, so a network's tunnel goes to the one hub whose `_up` tag it carries.
 *
 * Rules, unlike the reference script's substring tests: tags are compared whole and
 * case-sensitively; a tag that merely looks like a state tag (`london_primary_up_old`,
 * `xlondon_primary_up`) is an unrelated tag; unrelated tags keep their order and position;
 * exactly one `_up` tag results; the same input gives the same list back (idempotent).
 *
 * Pure: no I/O.
 */

/** The part of a hub's configuration that tag handling needs. */
export interface TagHub {
  name: string;
  tagPrefix: string;
}

/** A hub's role word by its place in the failover order (0 = primary). */
export function hubRole(index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`hub index ${index} is not a position`);
  if (index === 0) return 'primary';
  if (index === 1) return 'backup';
  return `backup${index}`;
}

/** The two state tags of the hub at `index`. */
export function hubStateTags(hub: TagHub, index: number): { up: string; down: string } {
  const base = `${hub.tagPrefix}_${hubRole(index)}`;
  return { up: `${base}_up`, down: `${base}_down` };
}

/** What a tag list says about each hub. */
export interface HubTagState {
  /** Names of hubs whose `_up` tag is present, in hub order. */
  up: string[];
  /** Names of hubs whose `_down` tag is present (and not their `_up` tag), in hub order. */
  down: string[];
  /** Names of hubs with neither tag. */
  missing: string[];
}

/** Index every state tag: tag → which hub and which state. */
function stateTagIndex(hubs: readonly TagHub[]): Map<string, { hub: number; up: boolean }> {
  const index = new Map<string, { hub: number; up: boolean }>();
  hubs.forEach((hub, i) => {
    const { up, down } = hubStateTags(hub, i);
    index.set(up, { hub: i, up: true });
    index.set(down, { hub: i, up: false });
  });
  return index;
}

/** Read the hubs' states from a network's tags (exact matches only). */
export function hubTagState(tags: readonly string[], hubs: readonly TagHub[]): HubTagState {
  const index = stateTagIndex(hubs);
  const up = new Set<number>();
  const down = new Set<number>();
  for (const tag of tags) {
    const hit = index.get(tag);
    if (hit) (hit.up ? up : down).add(hit.hub);
  }
  const state: HubTagState = { up: [], down: [], missing: [] };
  hubs.forEach((hub, i) => {
    if (up.has(i)) state.up.push(hub.name);
    else if (down.has(i)) state.down.push(hub.name);
    else state.missing.push(hub.name);
  });
  return state;
}

/**
 * The hub a network's tunnel uses: the one hub whose `_up` tag it carries. Undefined when it
 * carries none, or more than one (ambiguous: the network needs a re-tag).
 */
export function currentHubFromTags(tags: readonly string[], hubs: readonly TagHub[]): string | undefined {
  const { up } = hubTagState(tags, hubs);
  return up.length === 1 ? up[0] : undefined;
}

/** Does the network carry any state tag of these hubs (i.e. take part in failover)? */
export function hasHubTags(tags: readonly string[], hubs: readonly TagHub[]): boolean {
  const index = stateTagIndex(hubs);
  return tags.some((t) => index.has(t));
}

/**
 * The network's new tag list when `targetHub` (a hub name) should carry its tunnel: the target's
 * `_up` tag, every other hub's `_down` tag, each in the place the hub's old state tag had (hubs
 * without one are appended in hub order), duplicates of state tags dropped, and every other tag
 * kept where it was. Returns the input's elements in the same order when nothing changes.
 *
 * @throws RangeError when `targetHub` is not one of `hubs`.
 */
export function retagForHub(tags: readonly string[], hubs: readonly TagHub[], targetHub: string): string[] {
  const target = hubs.findIndex((h) => h.name === targetHub);
  if (target < 0) {
    throw new RangeError(
      `targetHub=${JSON.stringify(targetHub)}: expected one of ${hubs.map((h) => JSON.stringify(h.name)).join(', ')}`,
    );
  }
  const index = stateTagIndex(hubs);
  const wanted = (hub: number): string => {
    const t = hubStateTags(hubs[hub] as TagHub, hub);
    return hub === target ? t.up : t.down;
  };
  const placed = new Set<number>();
  const out: string[] = [];
  for (const tag of tags) {
    const hit = index.get(tag);
    if (!hit) {
      out.push(tag);
    } else if (!placed.has(hit.hub)) {
      placed.add(hit.hub);
      out.push(wanted(hit.hub));
    }
    // else: a second state tag of the same hub; dropped.
  }
  hubs.forEach((_, i) => {
    if (!placed.has(i)) out.push(wanted(i));
  });
  return out;
}

/** Are two tag lists the same, element by element? */
export function sameTags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
