/**
 * Parse a director's CPE list (raw onboarding metadata) into tenants → HA groups → candidates
 * and branches. Pure. Bad metadata never throws: the CPE is reported in `inventory.invalid`
 * (field, value, what was expected) and left out, and the rest is parsed as usual.
 *
 * Classification (keys exact, values trimmed and case-insensitive):
 * - `CPE_BR_TYPE=HA` → a branch (unless it also says `CPE_TYPE=DC|DR`, which is contradictory);
 * - otherwise `CPE_MODE=HA` → a concentrator, which needs `CPE_TYPE` DC|DR, `HA_STATE`
 *   ACTIVE|PASSIVE and `HA_NAME`;
 * - anything else (a plain CPE, a non-HA hub) is ignored, not an error.
 * Only tunnels with an HA tunnel identifier are modelled; other tunnels are not the controller's.
 */
import { InvalidCpeError } from '../errors.js';
import { IDENTIFIER_EXPECTED, isIdentifier } from './identifiers.js';
// A type-only import: erased at compile time, so the domain stays free of director code.
import type { DirectorCpe } from '../director/port.js';
import {
  CANDIDATE_ORDER,
  groupKey,
  type Branch,
  type CandidateSlot,
  type Concentrator,
  type HaGroup,
  type HaState,
  type Inventory,
  type SiteName,
  type Tenant,
  type Tunnel,
  type WanEndpoint,
} from './model.js';

/** One tenant's CPE list as the director returned it. */
export interface TenantCpes {
  tenantId: string;
  tenantName?: string;
  cpes: DirectorCpe[];
}

/** One entry of `Inventory.invalid`. */
export type InvalidCpe = Inventory['invalid'][number];

const WAN_KEY = /^WAN(\d{2})_PUB_(IP|PORT)$/;

/** Parse every tenant's CPEs. Never throws for bad metadata; see `inventory.invalid`. */
export function parseInventory(input: readonly TenantCpes[]): Inventory {
  const invalid: InvalidCpe[] = [];
  const tenants: Tenant[] = input.map((t) => parseTenant(t, invalid));
  return { tenants, invalid };
}

/** The group with this key (`tenantId#haName`), if the inventory has it. */
export function findGroup(inventory: Inventory, key: string): HaGroup | undefined {
  for (const tenant of inventory.tenants) {
    const group = tenant.groups.find((g) => g.key === key);
    if (group) return group;
  }
  return undefined;
}

/**
 * The concentrator a branch currently uses: the one whose tunnel ID every ESTABLISHED HA tunnel
 * of the branch carries for its identifier. Undefined when no tunnel is established, or when the
 * established tunnels point at different concentrators or at none of the group's (drift).
 */
export function branchCurrentTarget(branch: Branch, group: HaGroup): string | undefined {
  let target: string | undefined;
  let established = 0;
  for (const tunnel of branch.tunnels) {
    if (tunnel.state !== 'ESTABLISHED') continue;
    established++;
    const owner = group.candidates.find((c) =>
      c.tunnels.some(
        (ct) => ct.haTunnelIdentifier === tunnel.haTunnelIdentifier && ct.tunnelId === tunnel.tunnelId,
      ),
    );
    if (!owner || (target !== undefined && target !== owner.id)) return undefined;
    target = owner.id;
  }
  return established > 0 ? target : undefined;
}

/** True for a textual IPv4 (dotted quad, no leading zeros) or IPv6 address. */
export function isIpAddress(value: string): boolean {
  return isIPv4(value) || isIPv6(value);
}

/** Four dot-separated parts, each `0` or 1–3 ASCII digits without a leading zero, at most 255. */
function isIPv4(value: string): boolean {
  // By hand: every listed CPE has its WAN addresses checked on every listing.
  let parts = 0;
  let digits = 0;
  let part = 0;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 46; // the end closes the last part like a '.'
    if (c === 46) {
      if (digits === 0 || part > 255 || ++parts > 4) return false;
      digits = 0;
      part = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 3 || (digits === 1 && part === 0)) return false; // too long, or a leading zero
      part = part * 10 + (c - 48);
      digits++;
    } else return false;
  }
  return parts === 4;
}

function isIPv6(value: string): boolean {
  const halves = value.split('::');
  if (halves.length > 2) return false;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  const all = [...head, ...tail];
  let count = all.length;
  // An embedded IPv4 address may end the address and counts as two groups.
  const ending = halves.length === 2 ? tail : head;
  const last = ending[ending.length - 1];
  if (last !== undefined && last.includes('.')) {
    if (!isIPv4(last)) return false;
    all.pop();
    count += 1;
  }
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

// ---------------------------------------------------------------------------------------------

/** A CPE that passed its own checks, with its list position (the tie-break for "onboarded later"). */
interface Parsed<T> {
  cpe: T;
  index: number;
}

interface GroupDraft {
  haName: string;
  concentrators: Parsed<Concentrator>[];
  branches: Branch[];
}

function parseTenant(t: TenantCpes, invalid: InvalidCpe[]): Tenant {
  const report = (cpeId: string, field: string, value: unknown, expected: string): void => {
    const error = new InvalidCpeError(cpeId, field, value, expected, t.tenantId);
    invalid.push({ cpeId, tenantId: t.tenantId, field, value, expected, message: error.message });
  };

  const drafts = new Map<string, GroupDraft>();
  const seenIds = new Set<string>();
  t.cpes.forEach((cpe, index) => {
    if (seenIds.has(cpe.id)) {
      report(cpe.id, 'id', cpe.id, 'a CPE id listed once per tenant (the first listing is kept)');
      return;
    }
    seenIds.add(cpe.id);
    if (cpe.malformed) {
      report(cpe.id, cpe.malformed.field, cpe.malformed.value, cpe.malformed.expected);
      return;
    }
    if (!isIdentifier(cpe.id)) {
      report(cpe.id, 'id', cpe.id, IDENTIFIER_EXPECTED);
      return;
    }
    const parsed = parseCpe(cpe, t.tenantId, report);
    if (!parsed) return;
    let draft = drafts.get(parsed.haName);
    if (!draft) {
      draft = { haName: parsed.haName, concentrators: [], branches: [] };
      drafts.set(parsed.haName, draft);
    }
    if (parsed.kind === 'concentrator') draft.concentrators.push({ cpe: parsed, index });
    else draft.branches.push(parsed);
  });

  const groups = [...drafts.values()].map((d) => buildGroup(t.tenantId, d, report));
  return { id: t.tenantId, name: t.tenantName ?? t.tenantId, groups };
}

type Report = (cpeId: string, field: string, value: unknown, expected: string) => void;

/** A metadata value, trimmed; undefined when absent or blank. */
function meta(cpe: DirectorCpe, key: string): string | undefined {
  const v = cpe.metadata[key]?.trim();
  return v ? v : undefined;
}

/** The checks of one CPE: reports each failure and remembers that there was one. */
class CpeCheck {
  ok = true;
  constructor(private readonly report: Report) {}

  fail(cpeId: string, field: string, value: unknown, expected: string): void {
    this.ok = false;
    this.report(cpeId, field, value, expected);
  }
}

/** Check one CPE's own metadata. Returns undefined when it is ignored or invalid (reported). */
function parseCpe(cpe: DirectorCpe, tenantId: string, report: Report): Concentrator | Branch | undefined {
  // No closures here (one per CPE per listing, each named at run time by some bundlers).
  const cpeType = meta(cpe, 'CPE_TYPE')?.toUpperCase();
  const isBranch = meta(cpe, 'CPE_BR_TYPE')?.toUpperCase() === 'HA';
  const isConcentrator = !isBranch && meta(cpe, 'CPE_MODE')?.toUpperCase() === 'HA';
  if (!isBranch && !isConcentrator) return undefined;

  const check = new CpeCheck(report);
  if (isBranch && (cpeType === 'DC' || cpeType === 'DR')) {
    check.fail(
      cpe.id,
      'CPE_BR_TYPE',
      cpe.metadata.CPE_BR_TYPE,
      `absent on a ${cpeType} concentrator (CPE_TYPE=${cpeType})`,
    );
  }
  if (isConcentrator && cpeType !== 'DC' && cpeType !== 'DR') {
    check.fail(cpe.id, 'CPE_TYPE', cpe.metadata.CPE_TYPE, 'DC or DR on a concentrator (CPE_MODE=HA)');
  }
  const haState = meta(cpe, 'HA_STATE')?.toUpperCase();
  if (isConcentrator && haState !== 'ACTIVE' && haState !== 'PASSIVE') {
    check.fail(cpe.id, 'HA_STATE', cpe.metadata.HA_STATE, 'ACTIVE or PASSIVE on a concentrator');
  }
  const haName = meta(cpe, 'HA_NAME');
  if (!haName) {
    check.fail(
      cpe.id,
      'HA_NAME',
      cpe.metadata.HA_NAME,
      'a non-empty HA group name (the same on every CPE of the group)',
    );
  } else if (!isIdentifier(haName)) {
    check.fail(cpe.id, 'HA_NAME', cpe.metadata.HA_NAME, `an HA group name of ${IDENTIFIER_EXPECTED}`);
  }
  const wans = parseWans(cpe, check);
  const tunnels: Tunnel[] = cpe.tunnels
    .filter((x) => x.haTunnelIdentifier?.trim())
    .map((x) => ({
      name: x.name,
      haTunnelIdentifier: (x.haTunnelIdentifier ?? '').trim(),
      tunnelId: x.tunnelId,
      state: x.state,
    }));
  if (!check.ok || !haName || !isIdentifier(haName)) return undefined;

  // Built field by field (a spread of the shared fields into each kind cost a copy per CPE).
  const out: Omit<Branch, 'kind'> & { kind: Branch['kind'] | Concentrator['kind'] } = {
    kind: isBranch ? 'branch' : 'concentrator',
    id: cpe.id,
    name: cpe.name,
    tenantId,
    haName,
    wans,
    lans: cpe.lans,
    tunnels,
  };
  if (cpe.onboardedBy) out.onboardedBy = cpe.onboardedBy;
  if (isBranch) return out as Branch;
  const c = out as Concentrator;
  c.site = cpeType as SiteName;
  c.haState = haState as HaState;
  c.slot = `${c.site}/${c.haState}`;
  if (cpe.onboardedAt) c.onboardedAt = cpe.onboardedAt;
  return c;
}

/** `WANnn_PUB_IP` / `WANnn_PUB_PORT` pairs, sorted by interface. Bad values are reported. */
function parseWans(cpe: DirectorCpe, check: CpeCheck): WanEndpoint[] {
  const byWan = new Map<string, { ip?: string; port?: string }>();
  for (const key of Object.keys(cpe.metadata)) {
    if (!key.startsWith('WAN')) continue;
    const raw = cpe.metadata[key] as string;
    const m = WAN_KEY.exec(key);
    if (!m) continue;
    const wan = `WAN${m[1]}`;
    const entry = byWan.get(wan) ?? {};
    if (m[2] === 'IP') entry.ip = raw;
    else entry.port = raw;
    byWan.set(wan, entry);
  }
  const wans: WanEndpoint[] = [];
  // `WANnn` names: code-point order is localeCompare's order (and much cheaper).
  const sorted =
    byWan.size > 1 ? [...byWan.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : byWan;
  for (const [wan, { ip, port }] of sorted) {
    const publicIp = ip?.trim() ?? '';
    if (!isIpAddress(publicIp)) {
      check.fail(cpe.id, `${wan}_PUB_IP`, ip, 'an IPv4 or IPv6 address');
      continue;
    }
    if (port === undefined) {
      wans.push({ wan, publicIp });
      continue;
    }
    const publicPort = /^\d+$/.test(port.trim()) ? Number(port.trim()) : NaN;
    if (!Number.isInteger(publicPort) || publicPort < 1 || publicPort > 65535) {
      check.fail(cpe.id, `${wan}_PUB_PORT`, port, 'an integer port from 1 to 65535');
      continue;
    }
    wans.push({ wan, publicIp, publicPort });
  }
  return wans;
}

/** Onboarding time in ms, or undefined when absent or not a date. */
function onboardedMs(c: Concentrator): number | undefined {
  if (!c.onboardedAt) return undefined;
  const ms = Date.parse(c.onboardedAt);
  return Number.isNaN(ms) ? undefined : ms;
}

/** True when `a` counts as onboarded after `b` (onboardedAt when both have it, else list order). */
function onboardedLater(a: Parsed<Concentrator>, b: Parsed<Concentrator>): boolean {
  const am = onboardedMs(a.cpe);
  const bm = onboardedMs(b.cpe);
  if (am !== undefined && bm !== undefined && am !== bm) return am > bm;
  return a.index > b.index;
}

/** Resolve slots, check tunnel IDs between candidates and branch identifiers; report the rest. */
function buildGroup(tenantId: string, draft: GroupDraft, report: Report): HaGroup {
  const { haName } = draft;

  // One concentrator per slot: the one onboarded later wins (DC1/DC2 replaced by DC3/DC4).
  const bySlot = new Map<CandidateSlot, Parsed<Concentrator>>();
  for (const p of draft.concentrators) {
    const holder = bySlot.get(p.cpe.slot);
    if (holder && !onboardedLater(p, holder)) {
      reportSlot(p.cpe, holder.cpe);
    } else {
      if (holder) reportSlot(holder.cpe, p.cpe);
      bySlot.set(p.cpe.slot, p);
    }
  }
  function reportSlot(loser: Concentrator, winner: Concentrator): void {
    report(
      loser.id,
      'HA_STATE',
      loser.haState,
      `at most one ${loser.site} ${loser.haState} concentrator in HA group "${haName}"; ` +
        `${winner.name} (${winner.id}), onboarded later, is kept`,
    );
  }

  // Candidates in failover order; no two may share a tunnel ID for one HA tunnel identifier
  // (branches could not tell them apart). The lower-ranked one (e.g. DC PASSIVE) is reported.
  const candidates: Concentrator[] = [];
  const owners = new Map<string, Concentrator>(); // `${identifier}\u0000${tunnelId}` → owner
  for (const slot of CANDIDATE_ORDER) {
    const c = bySlot.get(slot)?.cpe;
    if (!c) continue;
    const clash = c.tunnels
      .map((t) => ({ t, owner: owners.get(`${t.haTunnelIdentifier}\u0000${t.tunnelId}`) }))
      .find((x) => x.owner !== undefined);
    if (clash?.owner) {
      report(
        c.id,
        `tunnels.${clash.t.name}.tunnelId`,
        clash.t.tunnelId,
        `a tunnel ID for HA tunnel identifier "${clash.t.haTunnelIdentifier}" different from ` +
          `${clash.owner.slot} concentrator ${clash.owner.name} (${clash.owner.id})'s`,
      );
      continue;
    }
    for (const t of c.tunnels) owners.set(`${t.haTunnelIdentifier}\u0000${t.tunnelId}`, c);
    candidates.push(c);
  }

  // Every branch HA tunnel must name an identifier some candidate of the group has.
  const identifiers = new Set(candidates.flatMap((c) => c.tunnels.map((t) => t.haTunnelIdentifier)));
  const known = () => [...identifiers].map((i) => JSON.stringify(i)).join(', ') || 'none';
  const branches = draft.branches.filter((b) => {
    const orphan = b.tunnels.find((t) => !identifiers.has(t.haTunnelIdentifier));
    if (!orphan) return true;
    report(
      b.id,
      `tunnels.${orphan.name}.haTunnelIdentifier`,
      orphan.haTunnelIdentifier,
      `an HA tunnel identifier of a concentrator of HA group "${haName}" (known: ${known()})`,
    );
    return false;
  });

  return { tenantId, haName, key: groupKey(tenantId, haName), candidates, branches };
}
