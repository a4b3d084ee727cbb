/** A Lambda context for calling a handler in a test. */
import type { Context } from 'aws-lambda';

/** A context whose remaining time stays `remainingMs` (no real deadline: tests run at any pace). */
export function testContext(functionName: string, remainingMs: number): Context {
  return {
    functionName,
    awsRequestId: 'req',
    getRemainingTimeInMillis: () => remainingMs,
  } as unknown as Context;
}
