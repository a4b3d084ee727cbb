/**
 * `node --import ./local/sim/loader.mjs`: how the checker (`npm run check` and its workers)
 * loads TypeScript. It compiles each file with esbuild as tsx does (same target, tsconfig and
 * inline source maps, source maps on), minus tsx's `keepNames`, which wraps every function
 * created at run time in a `__name` call (an `Object.defineProperty`): ~3% of the checker's CPU
 * in the calls alone, ~10–15% with their effect on the closures. Without minifying nothing is
 * renamed, so every function keeps its own name anyway (Powertools' idempotency key reads one).
 */
import { register } from 'node:module';

process.setSourceMapsEnabled(true);
register('./loader-hooks.mjs', import.meta.url);
