/**
 * What the sandbox runs, in start order (stopped in reverse). Adding a capability is one line:
 * its part factory here, or its scenario in SCENARIOS (`--scenario <name>`).
 */
import { assemblyPart } from './assembly.js';
import { configPart, dynamoPart, healthCheckPart, simulatorPart, tablePart } from './core-parts.js';
import { drPart } from './dr.js';
import { endpointsPart } from './endpoints.js';
import { faultsPart } from './faults.js';
import { failoverPart } from './failover.js';
import { merakiPart } from './meraki.js';
import { pagePart } from './page.js';
import type { PartFactory, Scenario } from './parts.js';
import { dcSiteLossScenario } from './scenarios/dc-site-loss.js';
import { directorLossScenario } from './scenarios/director-loss.js';
import { timelinePart } from './timeline.js';

/** The parts, in start order. */
export const PARTS: PartFactory[] = [
  dynamoPart,
  simulatorPart,
  configPart,
  merakiPart, // --director meraki: Meraki simulator + configuration (instead of the two above)
  assemblyPart, // the CDK app synthesized from that configuration: tables, stream mapping, schedules
  tablePart,
  failoverPart, // the stream poller + failover handler: must run before the health check writes
  healthCheckPart,
  faultsPart,
  pagePart, // the Concentrator page, live: prints `page: http://127.0.0.1:<port>/`
  drPart, // zWAN without a scenario: S3 and the simulator's S3 job runner, for the DR state machines run by invoke
  timelinePart, // the notices topic and console operations of other processes (npm run invoke), /_sim faults
  endpointsPart, // once every part runs: writes where they listen, for npm run invoke
];

/** Scenarios by name (`--scenario <name>`): each replaces the fault script with its own part. */
export const SCENARIOS: Record<string, Scenario> = {
  'dc-site-loss': dcSiteLossScenario,
  'director-loss': directorLossScenario,
};
