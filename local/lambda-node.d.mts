/** Types of local/lambda-node.mjs (a plain Node script: it runs as the postinstall, before any build step). */

/** The Lambda runtime's Node.js major. */
export const LAMBDA_NODE_MAJOR: 22;
/** V8 flags of every checker process. */
export const CHECKER_V8_FLAGS: readonly string[];
/** The arguments before a checker script: the V8 flags and the TypeScript loader. */
export const CHECKER_EXEC_ARGV: readonly string[];
/**
 * The Node.js binary for checker processes (decided once per process): its path, version,
 * whether it is the Lambda major, and when it is not, `note` saying why.
 */
export function checkerNode(): { path: string; version: string; lambda: boolean; note?: string };
