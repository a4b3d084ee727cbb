/**
 * The sandbox is a list of parts, each with `start` and `stop`, started in order and stopped in
 * reverse. Parts publish what later parts need on the shared {@link SandboxContext} (endpoints,
 * table, simulator, configuration). Add a part by writing a {@link PartFactory} and listing it in
 * ./registry.ts (one line).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config, ControllerMode } from '../../shared/config/schema.js';
import type { SwitchoverStarter } from '../../shared/health/director-lost.js';
import type { LocalAssembly } from '../runtime/local-assembly.js';
import type { ZwanSimulator } from '../simulator/index.js';
import type { LoggedExchange } from '../simulator/meraki/server.js';
import type { FaultStep } from './faults.js';
import type { MerakiExternal } from './meraki-external.js';
import type { MerakiFaultStep } from './meraki-faults.js';
import type { ZwanExternal } from './zwan-external.js';

/** Options of a sandbox run (the CLI flags). */
export interface SandboxOptions {
  /** Fault script (replaced by the scenario's own when `scenario` is set). */
  faults: FaultStep[];
  /** Health cadence and hold divided by this (60: the 5-minute hold takes 5 s). @default 20 */
  timeScale: number;
  /** Stop after this many seconds (undefined: until Ctrl-C). */
  durationSec?: number;
  /** A registered scenario (./registry.ts). */
  scenario?: string;
  /** Topology file for the simulator. @default the Chennai lab */
  topologyPath?: string;
  /** Use this DynamoDB endpoint instead of starting DynamoDB Local (tests). */
  dynamoEndpoint?: string;
  /** Print the controller's own logs (Powertools) too. */
  verbose: boolean;
  /** Which director the sandbox simulates (`--director`). @default 'zwan' */
  director?: 'zwan' | 'meraki';
  /** Meraki mode: the fault script on the simulated timeline (`--faults`; default the demo). */
  merakiFaults?: MerakiFaultStep[];
  /** Meraki mode against an external Dashboard (`--director-url` …) instead of the simulator. */
  merakiExternal?: MerakiExternal;
  /** zWAN against external directors (`--director-url`, `--dr-director-url`, `--tenant`) instead of the simulator. */
  zwanExternal?: ZwanExternal;
  /** `--observe`: the functions run with config `mode: "observe"` (every director write refused). @default false */
  observe?: boolean;
  /**
   * Meraki mode: when set, the Meraki simulator logs bodies too and appends every exchange here
   * as it stops (the conformance script validates them). @default not recorded
   */
  merakiLog?: LoggedExchange[];
  /** Set from the scenario's {@link Scenario.config}: merged into the functions' configuration. */
  scenarioConfig?: ScenarioConfig;
}

/** The configuration's `mode` for these options (`--observe`). */
export function sandboxMode(options: Pick<SandboxOptions, 'observe'>): ControllerMode {
  return options.observe ? 'observe' : 'act';
}

/** Configuration a scenario needs beyond the sandbox's (e.g. `dr.autoSwitchover`). */
export interface ScenarioConfig {
  dr?: { autoSwitchover?: boolean };
}

/** Shared state of a running sandbox. Fields are set by the parts that own them. */
export interface SandboxContext {
  readonly options: SandboxOptions;
  /** Epoch ms when every part had started (fault times and printed times count from here). */
  readonly startedAt: number;
  /** Aborted when the sandbox stops. */
  readonly signal: AbortSignal;
  /** Print a line prefixed with the elapsed time and the wall-clock time. */
  print(line: string): void;
  /** Print a line as it is, without the time prefix (a line others parse, e.g. `page: <url>`). */
  printRaw(line: string): void;
  /** Set an environment variable for the functions; restored when the sandbox stops. */
  setEnv(name: string, value: string): void;
  /** Every variable set with {@link setEnv} so far (what another process needs to run the functions here). */
  functionEnv(): Record<string, string>;
  /** Set by the `dynamodb` part. */
  dynamo?: { endpoint: string; client: DynamoDBClient; doc: DynamoDBDocumentClient };
  /** Set by the `table` part. */
  tableName?: string;
  /** Set by the `simulator` part. */
  simulator?: ZwanSimulator;
  /** Set by the `config` part: the configuration the functions get (time-scaled health). */
  config?: Config;
  /** Set by the `assembly` part: the CDK app synthesized from `config` (tables, stream mapping, schedules). */
  assembly?: LocalAssembly;
  /** Set by the `timeline` part: where other processes report console operations (./timeline.ts). */
  timelineUrl?: string;
  /** Set by a DR scenario: starts SwitchoverDcToDr on DIRECTOR_LOST when `dr.autoSwitchover` is on. */
  switchoverStarter?: SwitchoverStarter;
  /** A scenario reports where the world put every branch after an act (tests assert on these). */
  reportAct(report: ActReport): void;
  /** A scenario is over: stop the sandbox; `failed` makes `npm start` exit non-zero. */
  finish(result: { failed: boolean; verdict: string }): void;
}

/** Where each branch's tunnels are after an act, from the simulated world, and what the story expected. */
export interface ActReport {
  act: string;
  branches: {
    id: string;
    name: string;
    /** The concentrator its established tunnels point to (absent: none established). */
    on?: string;
    expected: string;
    /** The site whose director manages it. */
    managedBy?: string;
  }[];
  ok: boolean;
}

/** One running piece of the sandbox. */
export interface SandboxPart {
  readonly name: string;
  start(ctx: SandboxContext): Promise<void>;
  /** Called once every part has started (`ctx.startedAt` is then set): start timed actions here. */
  running?(ctx: SandboxContext): void;
  /** Stop what `start` started; must be safe to call after a failed or partial start. */
  stop(): Promise<void>;
}

/** Creates a part for this run, or undefined when the part does not apply (e.g. an option is off). */
export type PartFactory = (options: SandboxOptions) => SandboxPart | undefined;

/** A named scenario: a part that drives the world (faults, checks) instead of the fault script. */
export interface Scenario {
  description: string;
  create: PartFactory;
  /** Configuration the scenario needs (merged over the sandbox's). @default none */
  config?: ScenarioConfig;
}

/** Read a field a previous part must have set, with a clear error when the order is wrong. */
export function need<K extends 'dynamo' | 'tableName' | 'simulator' | 'config' | 'assembly'>(
  ctx: SandboxContext,
  field: K,
  by: string,
): NonNullable<SandboxContext[K]> {
  const value = ctx[field];
  if (value === undefined || value === null) {
    throw new Error(`sandbox part ${by} needs ctx.${field}: list its part after the one that sets it`);
  }
  return value as NonNullable<SandboxContext[K]>;
}

/** A sleep that ends early (without error) when `signal` aborts. */
export function abortableSleep(signal: AbortSignal): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
}
