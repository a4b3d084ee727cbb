/**
 * The CDK app entry (`cdk.json`: `npx tsx cdk/app.ts`). Selects the configuration with
 * `-c env=<name>` (or $CPE_FAILOVER_ENV), validates it, and synthesizes both stacks with
 * cdk-nag. A bad configuration fails synth with the field, the value and what is expected.
 */
import { ConfigError } from '../shared/errors.js';
import { buildApp } from './build.js';

try {
  const { app } = buildApp();
  app.synth();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`cpe-failover: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
