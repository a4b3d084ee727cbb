/**
 * The Meraki part of the configuration as the adapter uses it, its checks beyond the schema, and
 * the branch→hub path ids the adapter maps onto the Director port.
 */
import type * as z from 'zod/mini';
import { zodIssues } from '../../config/load.js';
import { merakiSchema } from '../../config/schema.js';
import { hubStateTags } from '../../domain/meraki-tags.js';
import { ConfigError } from '../../errors.js';

/** The Meraki part of the configuration, as validated (defaults applied). */
export type MerakiConfig = z.infer<typeof merakiSchema>;
/** One configured hub. */
export type MerakiHub = MerakiConfig['organizations'][number]['hubs'][number];

/** Separator of a branch→hub path target (`N_1→london`), as in `Sample.target`. */
export const PATH_SEPARATOR = '→';

/** The health target / concentrator id of the path from a network to a hub. */
export function pathTarget(networkId: string, hubName: string): string {
  return `${networkId}${PATH_SEPARATOR}${hubName}`;
}

/** Split a path target; undefined when it is not one. */
export function parsePathTarget(target: string): { networkId: string; hub: string } | undefined {
  const i = target.lastIndexOf(PATH_SEPARATOR);
  if (i <= 0 || i === target.length - 1) return undefined;
  return { networkId: target.slice(0, i), hub: target.slice(i + PATH_SEPARATOR.length) };
}

/** HA tunnel identifier used for the Meraki VPN in the port's CPE model. */
export const MERAKI_TUNNEL_IDENTIFIER = 'meraki-vpn';

/**
 * Validate the Meraki configuration beyond the schema: unique hub names and state tags per
 * organization, unique organization ids. Throws ConfigError naming the field and the value.
 */
export function parseMerakiConfig(input: unknown, source = 'director (meraki)'): MerakiConfig {
  const parsed = merakiSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(source, zodIssues(parsed.error, input));
  const config = parsed.data;
  const issues: { path: string; value: unknown; expected: string }[] = [];
  const orgIds = new Set<string>();
  config.organizations.forEach((org, o) => {
    if (orgIds.has(org.id))
      issues.push({ path: `organizations.${o}.id`, value: org.id, expected: 'a unique organization id' });
    orgIds.add(org.id);
    const names = new Set<string>();
    const tags = new Set<string>();
    org.hubs.forEach((hub, h) => {
      if (names.has(hub.name)) {
        issues.push({
          path: `organizations.${o}.hubs.${h}.name`,
          value: hub.name,
          expected: 'a hub name used once per organization',
        });
      }
      names.add(hub.name);
      for (const tag of Object.values(hubStateTags(hub, h))) {
        if (tags.has(tag)) {
          issues.push({
            path: `organizations.${o}.hubs.${h}.tagPrefix`,
            value: hub.tagPrefix,
            expected: `a prefix whose tag ${tag} no other hub has`,
          });
        }
        tags.add(tag);
      }
    });
  });
  if (issues.length > 0) throw new ConfigError(source, issues);
  return config;
}
