// Quiet, deterministic environment for every test file.
import { applyLocalFunctionEnv } from '../local/sandbox/env.js';

applyLocalFunctionEnv({ functionName: 'cpe-failover-test', logLevel: 'SILENT' });
process.env.POWERTOOLS_DEV ??= 'false';
process.env.POWERTOOLS_SERVICE_NAME ??= 'cpe-failover';
process.env.POWERTOOLS_METRICS_NAMESPACE ??= 'CpeFailover';
