/**
 * The processes of the Meraki benchmark (./meraki.ts) other than the failover's: the Dashboard
 * (the simulator) and the side loads (health, reconcile, status). In AWS the Dashboard is another
 * machine and each function its own Lambda container with its own event loop; run in the
 * failover's process, a 25 MB loss-series answer being built or parsed stalled every other
 * sender and the simulator's clock of arrivals alike, so requests sent on their budget slots
 * were seen arriving together (6 in one second against a share of 5). Each runs here as a child
 * process (same loader as the parent), driven over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createMerakiPipelineDirector, type MerakiPipelineDirector } from '../shared/meraki/pipeline.js';
import { createDynamoClients, type DynamoClients } from '../shared/store/dynamo.js';
import { createTableRequestBudget } from '../shared/store/repos/request-budget.js';
import { StateRepository } from '../shared/store/state-repo.js';
import { DEFAULT_SIM_HUBS, generateOrganization } from '../local/simulator/meraki/generate.js';
import { createMerakiSimulator, type SimStats } from '../local/simulator/meraki/server.js';

/** What the Dashboard process simulates. */
export interface DashboardSpec {
  organizationId: string;
  networks: number;
  /** A batch of n actions takes `batchBaseMs + n · batchPerActionMs`. */
  batchBaseMs: number;
  batchPerActionMs: number;
  tunnelSettleMs: number;
  rateLimit: { requestsPerSecond: number; burst: number };
}

/** One logged request, as the report carries it. */
export interface ReportedExchange {
  /** Epoch ms of its arrival at the simulator. */
  at: number;
  method: string;
  path: string;
}

/** What the Dashboard saw, asked for once the run is over. */
export interface DashboardReport {
  stats: SimStats;
  log: ReportedExchange[];
  /** The organization's most requests in any 1 s window of arrivals. */
  maxPerSecond: number;
  /** Networks whose tags point at `hub`. */
  onHub: number;
  /** The simulator's longest event-loop stalls: how late an arrival may have been logged. */
  stalls: Stall[];
}

/** An event-loop stall: when (epoch ms, to the half second) and how long (ms). */
export interface Stall {
  at: number;
  ms: number;
}

/**
 * Watch this process's event loop from now on: `stop` gives its `top` longest stalls (measured
 * per half second), longest first.
 */
export function watchStalls(top = 3): { stop(): Stall[] } {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const stalls: Stall[] = [];
  const look = () => {
    stalls.push({ at: Date.now(), ms: Math.round(delay.max / 1e6) });
    delay.reset();
  };
  const timer = setInterval(look, 500);
  return {
    stop() {
      clearInterval(timer);
      look();
      delay.disable();
      return stalls.sort((a, b) => b.ms - a.ms).slice(0, top);
    },
  };
}

/** A side load: which container, and what it reaches. */
export interface SideSpec extends ContainerSpec {
  role: 'health' | 'reconcile' | 'status';
  periodMs: number;
}

/** A side load's runs and errors, sent when it is told to stop. */
export interface SideCounts {
  runs: number;
  errors: string[];
}

type Message =
  | { type: 'dashboard'; spec: DashboardSpec }
  | { type: 'side'; spec: SideSpec }
  | { type: 'report'; hub: string }
  | { type: 'stop' };

const self = fileURLToPath(import.meta.url);

/** A child process of this module, with a request/answer channel. */
class Child {
  private readonly proc: ChildProcess;
  private readonly answers: ((m: unknown) => void)[] = [];
  private readonly exited: Promise<number | null>;

  constructor() {
    this.proc = fork(self, ['--bench-child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.proc.on('message', (m) => this.answers.shift()?.(m));
    this.exited = new Promise((done) => this.proc.on('exit', done));
  }

  ask<T>(m: Message): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.answers.push((a) => {
        const failed = a as { error?: string };
        if (failed.error) reject(new Error(failed.error));
        else resolve(a as T);
      });
      this.proc.send(m);
      void this.exited.then((code) => reject(new Error(`benchmark child exited with ${code}`)));
    });
  }

  tell(m: Message): void {
    this.proc.send(m);
  }

  async end(): Promise<void> {
    if (this.proc.exitCode === null) this.proc.kill();
    await this.exited;
  }
}

/** The simulator in a process of its own; `report` once the run is over, then `close`. */
export async function startDashboard(spec: DashboardSpec): Promise<{
  baseUrl: string;
  apiKey: string;
  report(hub: string): Promise<DashboardReport>;
  close(): Promise<void>;
}> {
  const child = new Child();
  const ready = await child.ask<{ baseUrl: string; apiKey: string }>({ type: 'dashboard', spec });
  return {
    ...ready,
    report: (hub) => child.ask<DashboardReport>({ type: 'report', hub }),
    close: () => child.end(),
  };
}

/** A side load in a process of its own, every `periodMs` from now; `stop` resolves with its counts. */
export async function startSideLoad(spec: SideSpec): Promise<{ stop(): Promise<SideCounts> }> {
  const child = new Child();
  const counts = child.ask<SideCounts>({ type: 'side', spec });
  return {
    async stop() {
      child.tell({ type: 'stop' });
      const result = await counts;
      await child.end();
      return result;
    },
  };
}

async function serveDashboard(spec: DashboardSpec, answer: (m: unknown) => void): Promise<void> {
  const org = generateOrganization({ id: spec.organizationId, networks: spec.networks });
  const sim = await createMerakiSimulator({
    organizations: [org],
    batchDurationMs: (actions) => spec.batchBaseMs + actions.length * spec.batchPerActionMs,
    tunnelSettleMs: spec.tunnelSettleMs,
    rateLimit: spec.rateLimit,
    logBodies: false,
    maxLog: 1_000_000,
  });
  const stalls = watchStalls();
  answer({ baseUrl: sim.baseUrl, apiKey: sim.apiKey });
  process.on('message', (m: Message) => {
    if (m.type !== 'report') return;
    answer({
      stats: sim.stats(),
      log: sim.log.map((e) => ({ at: e.at, method: e.method, path: e.path })),
      maxPerSecond: sim.maxRequestsInWindow(spec.organizationId, 1000),
      onHub: org.networks.filter((n) => sim.tunnelHub(n.id) === m.hub).length,
      stalls: stalls.stop(),
    } satisfies DashboardReport);
  });
}

/** Where a container of the benchmark reaches the Dashboard and the state table. */
export interface ContainerSpec {
  organizationId: string;
  dynamoEndpoint: string;
  tableName: string;
  baseUrl: string;
  apiKey: string;
  requestsPerSecond: number;
}

/**
 * One container: its own DynamoDB clients, budget ledger, write claims and pipeline director
 * (`background`: through the background lane, as status and reconcile are deployed).
 */
export function benchContainer(
  spec: ContainerSpec,
  background = false,
): { director: MerakiPipelineDirector; clients: DynamoClients } {
  const clients = createDynamoClients({ endpoint: spec.dynamoEndpoint });
  const director = createMerakiPipelineDirector(
    {
      kind: 'meraki',
      baseUrl: spec.baseUrl,
      secretName: 'bench',
      requestsPerSecond: spec.requestsPerSecond,
      organizations: [{ id: spec.organizationId, hubs: [...DEFAULT_SIM_HUBS] }],
    },
    {
      apiKey: async () => spec.apiKey,
      budget: createTableRequestBudget({
        doc: clients.doc,
        tableName: spec.tableName,
        requestsPerSecond: spec.requestsPerSecond,
        background,
      }),
      // Fenced writes claimed in the same table, as deployed.
      claims: new StateRepository(clients.doc, spec.tableName).claims,
    },
  );
  return { director, clients };
}

async function serveSide(spec: SideSpec, answer: (m: unknown) => void): Promise<void> {
  const { director, clients } = benchContainer(spec, spec.role !== 'health');
  const org = spec.organizationId;
  const run = {
    health: () => director.sampleHealth(org, []),
    reconcile: () => director.listCpes(org),
    status: async () => {
      await director.checkPeers(org);
      await director.vpnReach(org);
    },
  }[spec.role];
  const counts: SideCounts = { runs: 0, errors: [] };
  let stopped = false;
  let wake: () => void = () => undefined;
  process.on('message', (m: Message) => {
    if (m.type !== 'stop') return;
    stopped = true;
    wake();
  });
  while (!stopped) {
    const started = Date.now();
    try {
      await run();
      counts.runs += 1;
    } catch (error) {
      counts.errors.push((error as Error).message.slice(0, 200));
    }
    const rest = spec.periodMs - (Date.now() - started);
    if (!stopped && rest > 0) {
      await new Promise<void>((done) => {
        const timer = setTimeout(done, rest);
        wake = () => {
          clearTimeout(timer);
          done();
        };
      });
    }
  }
  clients.client.destroy();
  answer(counts);
}

if (process.argv.includes('--bench-child') && process.send) {
  const answer = (m: unknown) => process.send?.(m);
  process.once('message', (m: Message) => {
    const served =
      m.type === 'dashboard'
        ? serveDashboard(m.spec, answer)
        : m.type === 'side'
          ? serveSide(m.spec, answer)
          : undefined;
    served?.catch((error: unknown) => answer({ error: String((error as Error).stack ?? error) }));
  });
}
