/**
 * The sandbox's controller against an external Meraki Dashboard (`--director-url`, `--api-key`,
 * `--org` or `--meraki-config`) instead of its simulator: a real organization, or another
 * implementation of the API. The controller WILL write tags there (it re-points branches).
 *
 * - The base URL must be https, except on loopback (a local implementation); no credentials in it
 *   (the configuration's rule for director URLs).
 * - The key comes from `--api-key` or `CPE_FAILOVER_API_KEY`; it is kept behind a function so
 *   that printing the options never shows it, and errors show `<redacted>` for it.
 * - `--org <id>` (repeatable): the organization's hubs are read from its third-party VPN peers
 *   (a peer tagged `<prefix>_<role>_up` is that hub, named as the peer; its public IP is the
 *   tracked IP).
 *   `--meraki-config <file>`: the `director` section of a configuration (organizations with
 *   their hubs, optionally `baseUrl`, `requestsPerSecond`, `redirectHosts`) without `kind`.
 */
import { existsSync, readFileSync } from 'node:fs';
import type * as z from 'zod/mini';
import type { merakiHubSchema } from '../../shared/config/schema.js';
import type { HttpClient } from '../../shared/director/http.js';
import { API_KEY_ENV } from '../../shared/director/secrets.js';
import { isDirectorUrl } from '../../shared/config/fields.js';
import { isIdentifier } from '../../shared/domain/identifiers.js';
import { ConfigError, DirectorResponseError, ValidationError } from '../../shared/errors.js';
import { parseMerakiPipelineConfig } from '../../shared/meraki/pipeline.js';

/** How a secret is shown. */
export const REDACTED = '<redacted>';

/** A hub as configured (defaults not applied). */
export type ExternalHub = z.input<typeof merakiHubSchema>;

/** One organization of the external Dashboard; without hubs they are read from its VPN peers. */
export interface ExternalOrganization {
  id: string;
  hubs?: ExternalHub[];
  networkTag?: string;
}

/** An external Dashboard as the sandbox's director. */
export interface MerakiExternal {
  /** `https://…/api/v1` (or http on loopback), without a trailing slash. */
  baseUrl: string;
  /** The API key (a function: printing the options never shows it). */
  apiKey: () => string;
  organizations: ExternalOrganization[];
  requestsPerSecond?: number;
  redirectHosts?: string[];
  /** Where the organizations came from, for the start-up line. */
  source: string;
}

/** The flags as read by parseArgs. */
export interface ExternalFlags {
  directorUrl?: string | undefined;
  apiKey?: string | undefined;
  orgs?: string[] | undefined;
  merakiConfig?: string | undefined;
}

type Issue = { path: string; value: unknown; expected: string };

const ORG_ID = /^[A-Za-z0-9_.-]{1,100}$/;

/**
 * The Dashboard base URL, checked as the configuration checks a director URL (https; http only
 * to this machine or a special-use name; no credentials, query or fragment), without a trailing slash.
 */
export function checkDashboardUrl(raw: string, field: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError('sandbox options', [
      { path: field, value: raw, expected: 'an absolute URL such as https://api.meraki.com/api/v1' },
    ]);
  }
  if (!isDirectorUrl(raw))
    throw new ValidationError('sandbox options', [
      {
        path: field,
        value: url.username || url.password ? REDACTED : raw,
        expected:
          'an https URL without credentials, query or fragment (http only on loopback or a .test/.invalid/.localhost name; the key goes in --api-key)',
      },
    ]);
  return url.href.replace(/\/+$/, '');
}

function readConfigFile(file: string): {
  organizations: ExternalOrganization[];
  baseUrl?: string;
  rest: object;
} {
  if (!existsSync(file))
    throw new ValidationError('sandbox options', [
      { path: '--meraki-config', value: file, expected: 'an existing JSON file (file not found)' },
    ]);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ValidationError('sandbox options', [
      { path: '--meraki-config', value: file, expected: `a JSON file (${(error as Error).message})` },
    ]);
  }
  const given = (typeof json === 'object' && json !== null && !Array.isArray(json) ? json : {}) as Record<
    string,
    unknown
  >;
  try {
    const valid = parseMerakiPipelineConfig({ kind: 'meraki', secretName: 'sandbox', ...given });
    return {
      organizations: valid.organizations,
      ...(typeof given.baseUrl === 'string' ? { baseUrl: given.baseUrl } : {}),
      rest: {
        ...(given.requestsPerSecond !== undefined ? { requestsPerSecond: valid.requestsPerSecond } : {}),
        ...(valid.redirectHosts ? { redirectHosts: [...valid.redirectHosts] } : {}),
      },
    };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ValidationError(
      'sandbox options',
      error.issues.map((i) => ({ ...i, path: `--meraki-config ${file}: ${i.path || '(root)'}` })),
    );
  }
}

/**
 * The external Dashboard the flags ask for (undefined when none of them is given). Throws
 * ValidationError naming the flag and the value (the key shown as `<redacted>`).
 */
export function parseExternalFlags(
  flags: ExternalFlags,
  env: Record<string, string | undefined> = process.env,
): MerakiExternal | undefined {
  const orgs = flags.orgs ?? [];
  if (flags.directorUrl === undefined && orgs.length === 0 && flags.merakiConfig === undefined) {
    if (flags.apiKey !== undefined)
      throw new ValidationError('sandbox options', [
        {
          path: '--api-key',
          value: REDACTED,
          expected: 'only with --director-url, --org or --meraki-config',
        },
      ]);
    return undefined;
  }
  const issues: Issue[] = [];
  if (orgs.length > 0 && flags.merakiConfig !== undefined)
    issues.push({
      path: '--org',
      value: orgs,
      expected: 'no --org with --meraki-config (the file lists the organizations)',
    });
  if (orgs.length === 0 && flags.merakiConfig === undefined)
    issues.push({
      path: '--org',
      value: undefined,
      expected: 'an organization id (or --meraki-config <file>)',
    });
  for (const id of orgs)
    if (!ORG_ID.test(id))
      issues.push({ path: '--org', value: id, expected: 'an organization id (letters, digits, _ . -)' });
  if (new Set(orgs).size !== orgs.length)
    issues.push({ path: '--org', value: orgs, expected: 'each organization once' });
  const key = flags.apiKey ?? env[API_KEY_ENV];
  if (key === undefined || key === '')
    issues.push({
      path: '--api-key',
      value: flags.apiKey === undefined ? undefined : REDACTED,
      expected: `the Dashboard's API key (or ${API_KEY_ENV} in the environment)`,
    });
  else if (/\s/.test(key))
    issues.push({ path: '--api-key', value: REDACTED, expected: 'a key without spaces' });
  if (issues.length > 0) throw new ValidationError('sandbox options', issues);

  const file = flags.merakiConfig === undefined ? undefined : readConfigFile(flags.merakiConfig);
  const rawUrl = flags.directorUrl ?? file?.baseUrl ?? 'https://api.meraki.com/api/v1';
  const baseUrl = checkDashboardUrl(
    rawUrl,
    flags.directorUrl !== undefined ? '--director-url' : '--meraki-config baseUrl',
  );
  const secret = key as string;
  return {
    baseUrl,
    apiKey: () => secret,
    organizations: file ? file.organizations : orgs.map((id) => ({ id })),
    ...(file?.rest ?? {}),
    source: file ? `--meraki-config ${flags.merakiConfig}` : 'hubs read from the third-party VPN peers',
  };
}

const UP_TAG = /^(.+)_(primary|backup(\d*))_up$/;

/** A hub's place from its role word: primary 0, backup 1, backup<k> k. */
function roleIndex(role: string, k: string | undefined): number {
  if (role === 'primary') return 0;
  return k ? Number(k) : 1;
}

/**
 * An organization's hubs from its third-party VPN peers: each peer whose `networkTags` hold one
 * `<prefix>_<role>_up` tag is the hub at that role's place, tracked at its public IP. Throws
 * ConfigError naming the organization and the peer when the peers do not make 2+ hubs in order.
 */
export async function discoverHubs(client: HttpClient, organizationId: string): Promise<ExternalHub[]> {
  const path = `/organizations/${encodeURIComponent(organizationId)}/appliance/vpn/thirdPartyVPNPeers`;
  const res = await client.request<unknown>({ method: 'GET', path, tenantId: organizationId });
  const peers = (res.body as { peers?: unknown } | undefined)?.peers;
  if (!Array.isArray(peers))
    throw new DirectorResponseError(`Meraki GET ${path}`, res.status, [
      { path: 'peers', value: peers, expected: 'an array of peers' },
    ]);
  const where = `organization ${organizationId} third-party VPN peers`;
  const found: { index: number; hub: ExternalHub; peer: string }[] = [];
  const issues: Issue[] = [];
  peers.forEach((raw: unknown, p) => {
    const peer = (raw ?? {}) as { name?: unknown; publicIp?: unknown; networkTags?: unknown };
    const tags = Array.isArray(peer.networkTags)
      ? peer.networkTags.filter((t): t is string => typeof t === 'string')
      : [];
    const hits = tags.map((t) => UP_TAG.exec(t)).filter((m): m is RegExpExecArray => m !== null);
    if (hits.length === 0) return; // Not a failover hub (e.g. a cloud service peer).
    const name = typeof peer.name === 'string' ? peer.name : '';
    if (hits.length > 1 || name === '' || typeof peer.publicIp !== 'string') {
      issues.push({
        path: `peers.${p}`,
        value: { name: peer.name, publicIp: peer.publicIp, networkTags: tags },
        expected: 'a named peer with a publicIp and exactly one <prefix>_<role>_up tag',
      });
      return;
    }
    const m = hits[0] as RegExpExecArray;
    found.push({
      index: roleIndex(m[2] as string, m[3]),
      // The hub is named as its peer when that name can be a hub name (an identifier of at most
      // 64 characters); else after its tag prefix, with the peer's name kept for the peer check.
      hub:
        isIdentifier(name) && [...name].length <= 64
          ? { name, tagPrefix: m[1] as string, trackedIp: peer.publicIp }
          : { name: m[1] as string, tagPrefix: m[1] as string, trackedIp: peer.publicIp, peerName: name },
      peer: name,
    });
  });
  found.sort((a, b) => a.index - b.index);
  found.forEach((f, i) => {
    if (f.index !== i)
      issues.push({
        path: `peers (${f.peer})`,
        value: f.index,
        expected: `hub place ${i} (primary, backup, backup2, … with none missing or twice)`,
      });
  });
  if (found.length < 2 && issues.length === 0)
    issues.push({
      path: 'peers',
      value: found.map((f) => f.peer),
      expected:
        'at least two peers tagged <prefix>_primary_up and <prefix>_backup_up (or use --meraki-config)',
    });
  if (issues.length > 0) throw new ConfigError(where, issues);
  return found.map((f) => f.hub);
}
