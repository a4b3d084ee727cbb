/**
 * The sandbox's controller against external zWAN directors (`--director-url`, `--dr-director-url`,
 * `--tenant`, `--api-key`) instead of its simulator: a lab or production director pair, or another
 * implementation of the contract (`npm run sim` in another terminal). Without `--observe` the
 * controller WILL write there (fence, HA_STATE, re-point); with it, every write is refused before
 * it is sent (shared/director/observe.ts), which is how to watch a real director for weeks.
 *
 * - Each base URL is checked as the configuration checks a director URL (`directorUrlSchema`:
 *   https, or http on loopback; no credentials, query or fragment).
 * - The zWAN API lists no tenants: `--tenant <id>` (repeatable) names the ones to look after.
 * - The key comes from `--api-key` or `CPE_FAILOVER_API_KEY` and is kept behind a function, so
 *   printing the options never shows it; errors show `<redacted>` for it.
 */
import { directorUrlSchema } from '../../shared/config/fields.js';
import { API_KEY_ENV } from '../../shared/director/secrets.js';
import { IDENTIFIER_EXPECTED, isIdentifier } from '../../shared/domain/identifiers.js';
import type { SiteName } from '../../shared/domain/model.js';
import { ValidationError } from '../../shared/errors.js';
import { REDACTED } from './meraki-external.js';

/** External zWAN directors as the sandbox's. */
export interface ZwanExternal {
  /** Each site's director API base URL, without a trailing slash. */
  sites: Record<SiteName, string>;
  /** The API key (a function: printing the options never shows it). */
  apiKey: () => string;
  tenants: string[];
}

/** The flags as read by parseArgs. */
export interface ZwanExternalFlags {
  directorUrl?: string | undefined;
  drDirectorUrl?: string | undefined;
  apiKey?: string | undefined;
  tenants?: string[] | undefined;
}

type Issue = { path: string; value: unknown; expected: string };

const URL_EXPECTED =
  'an https URL without credentials, query or fragment (http only on loopback or a .test/.invalid/.localhost name; the key goes in --api-key)';

function checkUrl(raw: string | undefined, flag: string, site: SiteName, issues: Issue[]): string {
  if (raw === undefined) {
    issues.push({ path: flag, value: raw, expected: `the ${site} director's API base URL` });
    return '';
  }
  if (!directorUrlSchema.safeParse(raw).success) {
    let shown = raw;
    try {
      const url = new URL(raw);
      if (url.username || url.password) shown = REDACTED;
    } catch {
      // not a URL at all: shown as given
    }
    issues.push({ path: flag, value: shown, expected: URL_EXPECTED });
    return '';
  }
  return raw.replace(/\/+$/, '');
}

/**
 * The external zWAN directors the flags ask for (undefined when none of `--director-url`,
 * `--dr-director-url`, `--tenant` is given). Throws ValidationError naming each bad flag and its
 * value (the key shown as `<redacted>`).
 */
export function parseZwanExternalFlags(
  flags: ZwanExternalFlags,
  env: Record<string, string | undefined> = process.env,
): ZwanExternal | undefined {
  const tenants = flags.tenants ?? [];
  if (flags.directorUrl === undefined && flags.drDirectorUrl === undefined && tenants.length === 0) {
    if (flags.apiKey !== undefined)
      throw new ValidationError('sandbox options', [
        {
          path: '--api-key',
          value: REDACTED,
          expected:
            'only with --director-url (zWAN: with --dr-director-url and --tenant; meraki: with --org or --meraki-config)',
        },
      ]);
    return undefined;
  }
  const issues: Issue[] = [];
  const dc = checkUrl(flags.directorUrl, '--director-url', 'DC', issues);
  const dr = checkUrl(flags.drDirectorUrl, '--dr-director-url', 'DR', issues);
  if (dc !== '' && dc === dr)
    issues.push({
      path: '--dr-director-url',
      value: dr,
      expected: "the DR site's own director (not the DC director's URL)",
    });
  if (tenants.length === 0)
    issues.push({ path: '--tenant', value: undefined, expected: 'a tenant id (repeatable)' });
  for (const t of tenants)
    if (!isIdentifier(t))
      issues.push({ path: '--tenant', value: t, expected: `a tenant id: ${IDENTIFIER_EXPECTED}` });
  if (new Set(tenants).size !== tenants.length)
    issues.push({ path: '--tenant', value: tenants, expected: 'each tenant once' });
  const key = flags.apiKey ?? env[API_KEY_ENV];
  if (key === undefined || key === '')
    issues.push({
      path: '--api-key',
      value: flags.apiKey === undefined ? undefined : REDACTED,
      expected: `the directors' API key (or ${API_KEY_ENV} in the environment)`,
    });
  else if (/\s/.test(key))
    issues.push({ path: '--api-key', value: REDACTED, expected: 'a key without spaces' });
  if (issues.length > 0) throw new ValidationError('sandbox options', issues);
  const secret = key as string;
  return { sites: { DC: dc, DR: dr }, apiKey: () => secret, tenants: [...tenants] };
}

/** The start-up line: where the controller points, and whether it writes there. */
export function describeZwanExternal(external: ZwanExternal, observe: boolean): string {
  return (
    `zWAN directors (external, API key ${REDACTED}): DC ${external.sites.DC}  DR ${external.sites.DR}; ` +
    `tenants ${external.tenants.join(', ')}; ` +
    (observe
      ? 'observe mode: every director write is refused, nothing is changed there'
      : 'the controller WILL write there (fence, HA_STATE, re-point): --observe is recommended')
  );
}
