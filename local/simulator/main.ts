/**
 * Run the zWAN director simulator on its own:
 *   npx tsx local/simulator/main.ts [--port N] [--host H] [--topology file.json | --generate GROUPSxBRANCHES[xTENANTS]] [--latency MS]
 * Prints the two directors' URLs, the API key and the control API; Ctrl-C stops it.
 */
import { parseArgs } from 'node:util';
import { createZwanSimulator, SIM_API_KEY } from './zwan/server.js';
import { generateTopology, loadDefaultTopology, loadTopology } from './topology.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    topology: { type: 'string' },
    generate: { type: 'string' },
    latency: { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(
    'usage: tsx local/simulator/main.ts [--port N] [--host H] [--topology file.json | --generate 100x96[x1]] [--latency MS]',
  );
  process.exit(0);
}

function intOption(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name}=${JSON.stringify(raw)}: expected an integer >= ${min}`);
    process.exit(2);
  }
  return n;
}

const port = intOption('port', values.port, 0);
const latencyMs = intOption('latency', values.latency, 0);
let topology;
try {
  if (values.generate) {
    const m = /^(\d+)x(\d+)(?:x(\d+))?$/.exec(values.generate);
    if (!m)
      throw new Error(
        `--generate=${JSON.stringify(values.generate)}: expected GROUPSxBRANCHES[xTENANTS], e.g. 100x96`,
      );
    topology = generateTopology({
      groups: Number(m[1]),
      branchesPerGroup: Number(m[2]),
      tenants: Number(m[3] ?? 1),
    });
  } else {
    topology = values.topology ? await loadTopology(values.topology) : await loadDefaultTopology();
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}

const sim = await createZwanSimulator({ topology, host: values.host, port, latencyMs });
console.log(
  `zWAN simulator (${topology.name ?? 'topology'}: ${topology.cpes.length} CPEs, ${topology.tenants.length} tenant(s))`,
);
console.log(`  DC director: ${sim.url('DC')}`);
console.log(`  DR director: ${sim.url('DR')}`);
console.log(`  X-Api-Key:   ${SIM_API_KEY}`);
console.log(
  `  control:     GET ${sim.origin}/_sim/state · GET ${sim.origin}/_sim/requests · POST ${sim.origin}/_sim/faults/<action>`,
);
console.log(`  e.g. curl -XPOST ${sim.origin}/_sim/faults/cpeDown -d '{"id":"HA_DC1"}'`);

const stop = async () => {
  await sim.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
