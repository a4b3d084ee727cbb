/**
 * The simulator's topology file (JSON): tenants, the two sites' directors, and every CPE with
 * its onboarding metadata, LANs and tunnels. Metadata is NOT checked for meaning here (the
 * simulator must be able to serve bad metadata to test the inventory's error reports); only
 * the file's shape is validated, with errors naming the field and the value.
 *
 * `generateTopology` builds large synthetic topologies for the benchmarks.
 */
import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { ValidationError } from '../../shared/errors.js';

const name = z.string().min(1);
const siteName = z.enum(['DC', 'DR']);
const role = z.enum(['ACTIVE', 'PASSIVE']);

/** A LAN interface (also in a director's MSP configuration export). */
export const lanSchema = z.object({ name, cidr: name, virtualIp: z.ipv4().optional() }).strict();
/** A tunnel definition (also in a director's MSP configuration export). */
export const tunnelSchema = z
  .object({
    name: z.string().regex(/^IPSEC[0-9]{2}$/, 'IPSEC followed by two digits'),
    haTunnelIdentifier: name.optional(),
    tunnelId: name,
  })
  .strict();
/** A WAN interface (also in a director's MSP configuration export). */
export const wanSchema = z.object({ name, publicIp: name.optional() }).strict();

/** One CPE of a topology file. */
export const topologyCpeSchema = z
  .object({
    id: name,
    name,
    tenantId: name,
    /** The site whose power the CPE shares (siteDown). Default: metadata CPE_TYPE when DC or DR. */
    site: siteName.optional(),
    metadata: z.record(z.string(), z.string()),
    /** WAN interfaces. Default: one per `WANnn_PUB_IP` metadata key, else `WAN00` without an IP. */
    wans: z.array(wanSchema).optional(),
    lans: z.array(lanSchema).default([]),
    tunnels: z.array(tunnelSchema).default([]),
    /** Runtime HA role of a concentrator. Default: metadata HA_STATE. */
    haRole: role.optional(),
    onboardedBy: z.enum(['provisioning', 'ssh']).default('provisioning'),
    onboardedAt: z.iso.datetime().optional(),
    /**
     * The site whose director manages the CPE at start (its re-points are refused by the other
     * director). Provisioning-onboarded CPEs follow the management URL; SSH-onboarded ones move
     * only when rebooted. @default DC
     */
    managedBy: siteName.optional(),
    /** Powered and connected at start. @default true */
    up: z.boolean().default(true),
    lossPct: z.number().min(0).max(100).default(0),
    latencyMs: z.number().min(0).default(12),
  })
  .strict();

const siteSchema = z
  .object({
    role: role.optional(),
    managementUrl: z.url().optional(),
    version: name.optional(),
  })
  .strict();

/** A topology file. */
export const topologySchema = z
  .object({
    name: z.string().optional(),
    description: z.string().optional(),
    tenants: z.array(z.object({ id: name, name }).strict()).min(1),
    sites: z.object({ DC: siteSchema.optional(), DR: siteSchema.optional() }).strict().default({}),
    cpes: z.array(topologyCpeSchema),
  })
  .strict();

/** A topology as written in a file (defaults optional). */
export type TopologyInput = z.input<typeof topologySchema>;
/** A parsed topology (defaults applied). */
export type Topology = z.output<typeof topologySchema>;
/** One CPE as written in a file. */
export type TopologyCpeInput = z.input<typeof topologyCpeSchema>;
/** One parsed CPE. */
export type TopologyCpe = z.output<typeof topologyCpeSchema>;

/** A zod error as a ValidationError naming each bad field (its dotted path) and the value seen there. */
export function toValidationError(what: string, error: z.ZodError, input: unknown): ValidationError {
  return new ValidationError(
    what,
    error.issues.map((i) => {
      let value: unknown = input;
      for (const key of i.path)
        value = (value as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
      return { path: i.path.join('.'), value, expected: i.message };
    }),
  );
}

// Topologies and CPEs this module has already validated (so large ones are not parsed twice).
const validated = new WeakSet<object>();

/** Whether `input` came out of {@link parseTopology} / {@link parseTopologyCpe} unchanged in identity. */
export function isValidated(input: unknown): boolean {
  return typeof input === 'object' && input !== null && validated.has(input);
}

/** Validate a topology (shape, unique CPE ids, known tenants). Throws ValidationError. */
export function parseTopology(input: unknown, what = 'topology'): Topology {
  if (isValidated(input)) return input as Topology;
  const parsed = topologySchema.safeParse(input);
  if (!parsed.success) throw toValidationError(what, parsed.error, input);
  const topology = parsed.data;
  const tenants = new Set(topology.tenants.map((t) => t.id));
  const seen = new Set<string>();
  const issues: { path: string; value: unknown; expected: string }[] = [];
  topology.cpes.forEach((c, i) => {
    if (seen.has(c.id)) issues.push({ path: `cpes.${i}.id`, value: c.id, expected: 'an id used once' });
    seen.add(c.id);
    if (!tenants.has(c.tenantId)) {
      issues.push({ path: `cpes.${i}.tenantId`, value: c.tenantId, expected: `one of the tenants' ids` });
    }
  });
  if (issues.length > 0) throw new ValidationError(what, issues);
  validated.add(topology);
  for (const c of topology.cpes) validated.add(c);
  return topology;
}

/** Validate one CPE (for faults that add or replace a CPE). Throws ValidationError. */
export function parseTopologyCpe(input: unknown, what = 'cpe'): TopologyCpe {
  if (isValidated(input)) return input as TopologyCpe;
  const parsed = topologyCpeSchema.safeParse(input);
  if (!parsed.success) throw toValidationError(what, parsed.error, input);
  validated.add(parsed.data);
  return parsed.data;
}

/** Read and validate a topology file. */
export async function loadTopology(path: string): Promise<Topology> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new ValidationError(`topology file ${path}`, [
      { path: '(file)', value: path, expected: `a readable JSON file (${(cause as Error).message})` },
    ]);
  }
  return parseTopology(raw, `topology file ${path}`);
}

/** The default topology: the reference document's Chennai lab. */
export const DEFAULT_TOPOLOGY_PATH = new URL('./topologies/chennai-lab.json', import.meta.url);

/** Load the default (Chennai lab) topology. */
export async function loadDefaultTopology(): Promise<Topology> {
  return loadTopology(DEFAULT_TOPOLOGY_PATH.pathname);
}

/** Options of {@link generateTopology}. */
export interface GenerateTopologyOptions {
  /** HA groups in all. */
  groups: number;
  /** Branches per group. */
  branchesPerGroup: number;
  /** Tenants; groups are dealt round-robin. @default 1 */
  tenants?: number;
  /** IPsec tunnels per branch (IPSEC00, IPSEC01…), each with its own HA identifier. @default 1 */
  tunnelsPerBranch?: number;
}

/** Stable names used by generated topologies (so benchmarks and tests can address CPEs). */
export const generatedIds = {
  tenant: (t: number) => `tenant-${String(t + 1).padStart(2, '0')}`,
  group: (g: number) => `G${String(g + 1).padStart(3, '0')}`,
  concentrator: (g: number, slot: 'dc1' | 'dc2' | 'dr1' | 'dr2') => `${generatedIds.group(g)}-${slot}`,
  branch: (g: number, b: number) => `${generatedIds.group(g)}-br${String(b + 1).padStart(3, '0')}`,
};

/** An IPv4 address from a number (for synthetic public IPs). */
function ip(prefix: number, n: number): string {
  return `${prefix}.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255 || 1}`;
}

/** The onboarding metadata of an HA concentrator on one public WAN (WAN00). */
export function concentratorMetadata(c: {
  type: 'DC' | 'DR';
  state: 'ACTIVE' | 'PASSIVE';
  haName: string;
  ip: string;
  port: number;
}): Record<string, string> {
  return {
    CPE_TYPE: c.type,
    CPE_MODE: 'HA',
    HA_STATE: c.state,
    HA_NAME: c.haName,
    WAN00_PUB_IP: c.ip,
    WAN00_PUB_PORT: String(c.port),
  };
}

/**
 * A synthetic topology: `groups` HA groups, each with four concentrators (DC ACTIVE, DC PASSIVE,
 * DR ACTIVE, DR PASSIVE) and `branchesPerGroup` branches whose tunnels start on DC ACTIVE.
 * 100 groups × 96 branches = 10,000 CPEs (the benchmark).
 */
export function generateTopology(options: GenerateTopologyOptions): Topology {
  const { groups, branchesPerGroup } = options;
  const tenantCount = options.tenants ?? 1;
  const tunnels = options.tunnelsPerBranch ?? 1;
  const issues: { path: string; value: unknown; expected: string }[] = [];
  const check = (path: string, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min)
      issues.push({ path, value, expected: `an integer >= ${min}` });
  };
  check('groups', groups, 1);
  check('branchesPerGroup', branchesPerGroup, 0);
  check('tenants', tenantCount, 1);
  check('tunnelsPerBranch', tunnels, 1);
  if (issues.length > 0) throw new ValidationError('generateTopology options', issues);

  const slots = [
    { slot: 'dc1', type: 'DC', state: 'ACTIVE', lanHost: 1, port: 30000 },
    { slot: 'dc2', type: 'DC', state: 'PASSIVE', lanHost: 3, port: 40000 },
    { slot: 'dr1', type: 'DR', state: 'ACTIVE', lanHost: 1, port: 50000 },
    { slot: 'dr2', type: 'DR', state: 'PASSIVE', lanHost: 3, port: 50000 },
  ] as const;
  const cpes: TopologyCpeInput[] = [];
  let ipSeq = 1;
  for (let g = 0; g < groups; g++) {
    const tenantId = generatedIds.tenant(g % tenantCount);
    const haName = generatedIds.group(g);
    const identifiers = Array.from({ length: tunnels }, (_, k) => ({
      name: `IPSEC${String(k).padStart(2, '0')}`,
      haTunnelIdentifier: `${haName}-HA${String(k).padStart(2, '0')}`,
    }));
    const tunnelId = (slot: string, k: number) => `${haName}-${slot}-t${k}`;
    for (const s of slots) {
      // DC LANs in 10.0.0.0/9, DR LANs in 10.128.0.0/9: one /24 per group and site.
      const lanBase = `10.${(s.type === 'DR' ? 128 : 0) + ((g >> 8) & 127)}.${g & 255}`;
      cpes.push({
        id: generatedIds.concentrator(g, s.slot),
        name: `${haName}_${s.slot.toUpperCase()}`,
        tenantId,
        metadata: concentratorMetadata({ ...s, haName, ip: ip(100, ipSeq++) }),
        lans: [{ name: 'LAN00', cidr: `${lanBase}.${s.lanHost}/24`, virtualIp: `${lanBase}.5` }],
        tunnels: identifiers.map((t, k) => ({ ...t, tunnelId: tunnelId(s.slot, k) })),
      });
    }
    for (let b = 0; b < branchesPerGroup; b++) {
      cpes.push({
        id: generatedIds.branch(g, b),
        name: `${haName}_BR${b + 1}`,
        tenantId,
        metadata: { CPE_BR_TYPE: 'HA', HA_NAME: haName, WAN00_PUB_IP: ip(101, ipSeq++) },
        lans: [{ name: 'LAN00', cidr: `192.168.${b & 255}.1/24` }],
        tunnels: identifiers.map((t, k) => ({ ...t, tunnelId: tunnelId('dc1', k) })),
      });
    }
  }
  return parseTopology({
    name: `generated-${groups}x${branchesPerGroup}`,
    tenants: Array.from({ length: tenantCount }, (_, t) => ({
      id: generatedIds.tenant(t),
      name: `Tenant ${t + 1}`,
    })),
    sites: { DC: { role: 'ACTIVE' }, DR: { role: 'PASSIVE' } },
    cpes,
  });
}
