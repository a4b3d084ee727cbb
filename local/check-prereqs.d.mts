/** Types of local/check-prereqs.mjs (a plain Node script, so it runs before any build step). */

/** package.json `engines.node`: the one statement of which Node.js versions are supported. */
export function supportedNodeRange(): string;
/** Whether `version` (e.g. `20.20.2`) is in `range` (caret ranges joined by `||`). */
export function nodeVersionSupported(version: string, range: string): boolean;
/** The problem with running on Node.js `version`, or undefined when it is supported. */
export function nodeVersionProblem(version: string, range?: string): string | undefined;
