/** Types of local/lambda-node.mjs (a plain Node script: it runs as the postinstall, before any build step). */

/** The Lambda runtime's Node.js major. */
export const LAMBDA_NODE_MAJOR: number;
/** V8 flags of every checker process. */
export const CHECKER_V8_FLAGS: string[];
/** The Node.js binary for checker processes: its path, version, whether it is the Lambda major, and why not. */
export function checkerNode(): { path: string; version: string; lambda: boolean; note?: string };
