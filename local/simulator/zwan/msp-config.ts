/**
 * A simulated director's MSP configuration as a backup exports it (one JSON object in S3) and a
 * restore reads it back: the tenants and, per tenant, every CPE the director knows with its
 * onboarding metadata, WANs, LANs and tunnel definitions. Runtime state (liveness, loss, the
 * runtime HA role, which director manages a branch) is the physical world's and is not in it.
 */
import * as z from 'zod';
import type { SiteName } from '../../../shared/domain/model.js';
import { ValidationError } from '../../../shared/errors.js';
import { lanSchema, toValidationError, tunnelSchema, wanSchema } from '../topology.js';

/** The `format` of an export; a restore refuses any other. */
export const MSP_CONFIG_FORMAT = 'zwan-sim-msp-config/1';

/** The object's name under a backup's MSP prefix. */
export const MSP_CONFIG_NAME = 'msp-config.json';

const name = z.string().min(1);

const mspCpeSchema = z
  .object({
    id: name,
    name,
    metadata: z.record(z.string(), z.string()),
    wans: z.array(wanSchema),
    lans: z.array(lanSchema),
    tunnels: z.array(tunnelSchema),
    onboardedBy: z.enum(['provisioning', 'ssh']),
    onboardedAt: z.iso.datetime().optional(),
  })
  .strict();

/** The schema of an export (what a restore accepts). */
export const mspConfigSchema = z
  .object({
    format: z.literal(MSP_CONFIG_FORMAT),
    site: z.enum(['DC', 'DR']),
    exportedAt: z.iso.datetime(),
    tenants: z.array(z.object({ id: name, name, cpes: z.array(mspCpeSchema) }).strict()),
  })
  .strict();

/** One CPE of an export. */
export type MspConfigCpe = z.output<typeof mspCpeSchema>;

/** A director's MSP configuration export. */
export interface MspConfig extends z.output<typeof mspConfigSchema> {
  site: SiteName;
}

/**
 * Validate an export: its shape, and every CPE id used once. Throws ValidationError naming each
 * bad field and its value (a restore reports it and changes nothing).
 */
export function parseMspConfig(input: unknown, what = 'MSP configuration'): MspConfig {
  const parsed = mspConfigSchema.safeParse(input);
  if (!parsed.success) throw toValidationError(what, parsed.error, input);
  const seen = new Set<string>();
  const issues: { path: string; value: unknown; expected: string }[] = [];
  parsed.data.tenants.forEach((t, ti) =>
    t.cpes.forEach((c, ci) => {
      if (seen.has(c.id)) {
        issues.push({ path: `tenants.${ti}.cpes.${ci}.id`, value: c.id, expected: 'an id used once' });
      }
      seen.add(c.id);
    }),
  );
  if (issues.length > 0) throw new ValidationError(what, issues);
  return parsed.data;
}
