/**
 * Sandbox part: synthesize the CDK app once, from the configuration the functions get, and publish
 * it as `ctx.assembly`. The table, the failover stream poller, the health-check timer, the drift
 * reconcile and the dc-site-loss scenario take their definitions from it, so the sandbox runs what
 * `cdk deploy` would create. List it after the configuration parts and before the table.
 */
import { describeAssembly } from '../runtime/local-assembly.js';
import { DR_DEFAULTS } from '../../shared/config/schema.js';
import { need, type PartFactory } from './parts.js';

/** Synthesizes the app (bundling skipped) and prints what the sandbox takes from it. */
export const assemblyPart: PartFactory = (options) => {
  // Start loading aws-cdk-lib now: it overlaps with DynamoDB Local's start-up.
  const loading = import('../runtime/synth-assembly.js');
  loading.catch(() => undefined); // reported by start()
  return {
    name: 'assembly',
    async start(ctx) {
      const config = need(ctx, 'config', 'assembly');
      const { synthLocalAssembly } = await loading;
      // The sandbox divides dr.drainAfterSec by the time scale like every other duration; synth's
      // check of it against the re-pointing functions' Lambda timeouts (minutes) is about AWS,
      // where Lambda kills a fan-out at its timeout. Synthesize with the unscaled default.
      ctx.assembly = synthLocalAssembly({
        ...config,
        dr: { ...config.dr, drainAfterSec: Math.max(config.dr.drainAfterSec, DR_DEFAULTS.drainAfterSec) },
      });
      ctx.print(describeAssembly(ctx.assembly, options.timeScale));
    },
    async stop() {},
  };
};
