/**
 * What the sandbox runs, in start order (stopped in reverse). Adding a capability is one line:
 * its part factory here, or its scenario in SCENARIOS (`--scenario <name>`).
 */
import { configPart, dynamoPart, healthCheckPart, simulatorPart, tablePart } from './core-parts.js';
import { faultsPart } from './faults.js';
import type { PartFactory, Scenario } from './parts.js';

/** The parts, in start order. */
export const PARTS: PartFactory[] = [
  dynamoPart,
  tablePart,
  simulatorPart,
  configPart,
  // (the failover stream poller and handler go here: they must run before the health check writes)
  healthCheckPart,
  faultsPart,
];

/** Scenarios by name (`--scenario <name>`): each replaces the fault script with its own part. */
export const SCENARIOS: Record<string, Scenario> = {};
