/** The local zWAN director simulator: server, world, topology files and job runners. */
export {
  createZwanSimulator,
  SIM_API_KEY,
  type SimFaults,
  type SimRequestRecord,
  type ZwanSimulator,
  type ZwanSimulatorOptions,
} from './zwan/server.js';
export {
  createWorld,
  DirectorConfig,
  type DirectorCpeConfig,
  type DirectorMode,
  type SimCpe,
  SimHttpError,
  type SimSite,
  SimWorld,
} from './zwan/world.js';
export { type DirectorConfigs, InstantJobRunner, type JobRunner } from './zwan/job-runner.js';
export { type MspConfig, type MspConfigCpe, parseMspConfig } from './zwan/msp-config.js';
export {
  DEFAULT_TOPOLOGY_PATH,
  generatedIds,
  generateTopology,
  type GenerateTopologyOptions,
  loadDefaultTopology,
  loadTopology,
  parseTopology,
  type Topology,
  type TopologyCpe,
  type TopologyCpeInput,
  type TopologyInput,
} from './topology.js';
