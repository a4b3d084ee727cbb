/**
 * Run the sandbox programmatically: start every registered part in order, run until the duration
 * ends or `signal` aborts, then stop every started part in reverse order and restore the
 * environment. `npm start` (./main.ts) is a thin CLI over this; tests call it directly.
 */
import { ValidationError } from '../../shared/errors.js';
import type { ActReport, SandboxContext, SandboxOptions, SandboxPart } from './parts.js';
import { PARTS, SCENARIOS } from './registry.js';

/** Where the sandbox prints and how it is stopped. */
export interface SandboxIo {
  /** @default console.log */
  output?: (line: string) => void;
  /** Stop the sandbox when aborted (Ctrl-C). */
  signal?: AbortSignal;
  /** Each act a scenario reports, with the world's branch placement (tests assert on it). */
  onAct?: (report: ActReport) => void;
}

/** How a run ended: `failed` when a scenario's verdict failed. */
export interface SandboxResult {
  failed: boolean;
  /** The scenario's verdict line, when it finished. */
  verdict?: string;
}

function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

/** The parts of a run: the registered ones that apply, then the scenario's. */
export function sandboxParts(given: SandboxOptions): SandboxPart[] {
  const scenario = given.scenario ? SCENARIOS[given.scenario] : undefined;
  const options = scenario?.config ? { ...given, scenarioConfig: scenario.config } : given;
  const parts = PARTS.map((factory) => factory(options)).filter((p): p is SandboxPart => p !== undefined);
  if (options.scenario) {
    if (!scenario) {
      throw new ValidationError('sandbox options', [
        {
          path: 'scenario',
          value: options.scenario,
          expected: Object.keys(SCENARIOS).join(' | ') || 'a registered scenario (none yet)',
        },
      ]);
    }
    const part = scenario.create(options);
    if (part) parts.push(part);
  }
  return parts;
}

/**
 * Run the sandbox until `durationSec` passes, `io.signal` aborts or a scenario finishes;
 * resolves once everything is stopped.
 */
export async function runSandbox(options: SandboxOptions, io: SandboxIo = {}): Promise<SandboxResult> {
  const output = io.output ?? ((line: string) => console.log(line));
  const parts = sandboxParts(options);
  const stopper = new AbortController();
  const savedEnv = new Map<string, string | undefined>();
  const functionEnv: Record<string, string> = {};
  let startedAt = Date.now();
  const result: SandboxResult = { failed: false };
  const ctx: SandboxContext = {
    options,
    get startedAt() {
      return startedAt;
    },
    signal: stopper.signal,
    print: (line) => {
      const now = Date.now();
      const elapsed = (now - startedAt) / 1000;
      output(
        `${clockTime(now)} ${elapsed < 0 ? '-' : '+'}${Math.abs(elapsed).toFixed(1).padStart(5)}s  ${line}`,
      );
    },
    printRaw: (line) => output(line),
    setEnv: (name, value) => {
      if (!savedEnv.has(name)) savedEnv.set(name, process.env[name]);
      process.env[name] = value;
      functionEnv[name] = value;
    },
    functionEnv: () => ({ ...functionEnv }),
    reportAct: (report) => io.onAct?.(report),
    finish: ({ failed, verdict }) => {
      result.failed ||= failed;
      result.verdict = verdict;
      stopper.abort();
    },
  };
  const onAbort = () => stopper.abort();
  io.signal?.addEventListener('abort', onAbort, { once: true });
  const started: SandboxPart[] = [];
  let failure: unknown;
  try {
    for (const part of parts) {
      if (stopper.signal.aborted) break;
      started.push(part);
      await part.start(ctx);
    }
    if (!stopper.signal.aborted) {
      startedAt = Date.now();
      for (const part of started) part.running?.(ctx);
      ctx.print(
        `running${options.durationSec === undefined ? ' (Ctrl-C stops)' : ` for ${options.durationSec} s`}: ` +
          started.map((p) => p.name).join(', '),
      );
      await new Promise<void>((resolve) => {
        if (stopper.signal.aborted) return resolve();
        stopper.signal.addEventListener('abort', () => resolve(), { once: true });
        if (options.durationSec !== undefined) {
          const timer = setTimeout(() => stopper.abort(), options.durationSec * 1000);
          stopper.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
        }
      });
    }
  } catch (error) {
    failure = error;
  } finally {
    stopper.abort();
    io.signal?.removeEventListener('abort', onAbort);
    for (const part of started.reverse()) {
      try {
        await part.stop();
      } catch (error) {
        output(`stopping ${part.name} failed: ${(error as Error).message}`);
      }
    }
    for (const [name, value] of savedEnv) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    ctx.print('stopped');
  }
  if (failure) throw failure;
  return result;
}
