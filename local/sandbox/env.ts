/**
 * The process environment a function expects from Lambda, for running it on this machine (the
 * sandbox, the tests): AWS region and dummy credentials, a function name, and Powertools quiet
 * (no metrics flush, no tracing). Set before the functions' modules load: Powertools reads these
 * once. Values already in the environment win.
 */
export function applyLocalFunctionEnv(opts: { functionName: string; logLevel: string }): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= opts.logLevel;
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
  process.env.AWS_REGION ??= 'eu-west-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.AWS_LAMBDA_FUNCTION_NAME ??= opts.functionName;
}
