/**
 * Observe mode end to end (`npm start -- --observe`), programmatically: the sandbox's real
 * functions over the simulators, a failover-causing fault, and the simulators' own request logs
 * read over HTTP (`GET /_sim/requests`, zWAN) or as the Meraki simulator stops. Observe mode
 * sends not one write; the same world in act mode does (so these tests can fail).
 */
import { describe, expect, it } from '@jest/globals';
import { parseSandboxArgs } from '../../local/sandbox/args.js';
import { runSandbox } from '../../local/sandbox/sandbox.js';
import type { SimRequestRecord } from '../../local/simulator/zwan/server.js';
import type { LoggedExchange } from '../../local/simulator/meraki/types.js';

/** zWAN reads: every GET and the bulk health query (a POST that changes nothing). */
const ZWAN_READS = new Set(['queryCpeHealth']);
const zwanWrites = (log: readonly SimRequestRecord[]) =>
  log.filter((r) => r.method !== 'GET' && !ZWAN_READS.has(r.operation ?? ''));

/** A step of a run: once a printed line matches `on`, call `fault` on the simulator's control API. */
interface Step {
  on: RegExp;
  fault?: { action: string; body: Record<string, unknown> };
}

/**
 * Run the sandbox, playing `steps` in order (each waits for its line, so a slow machine only
 * makes the run longer), then, once a line matches `stopAt`, read the zWAN simulator's request
 * log over its control API (the origin from the sandbox's own start-up line) and stop.
 */
async function runZwan(
  args: string[],
  steps: Step[],
  stopAt: RegExp,
): Promise<{ lines: string[]; requests: SimRequestRecord[] }> {
  const options = parseSandboxArgs([
    ...args,
    '--faults',
    'none',
    '--dynamodb-endpoint',
    process.env.DYNAMODB_ENDPOINT ?? '',
  ]);
  const lines: string[] = [];
  const stop = new AbortController();
  let origin: string | undefined;
  let requests: SimRequestRecord[] = [];
  let chain: Promise<void> = Promise.resolve();
  let next = 0;
  let reading = false;
  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${origin}/_sim/${path}`, {
      method,
      ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    if (!res.ok) throw new Error(`simulator ${method} /_sim/${path}: HTTP ${res.status}`);
    return res.status === 204 ? undefined : res.json();
  };
  await runSandbox(options, {
    signal: stop.signal,
    output: (line) => {
      lines.push(line);
      origin ??= /zWAN simulator: DC (http:\/\/[^/\s]+)\//.exec(line)?.[1];
      const step = steps[next];
      if (step && step.on.test(line)) {
        next++;
        if (step.fault) {
          const { action, body } = step.fault;
          chain = chain.then(() => control('POST', `faults/${action}`, body).then(() => undefined));
        }
      }
      if (!reading && next === steps.length && stopAt.test(line)) {
        reading = true;
        chain = chain
          .then(async () => {
            // One more health round and stream batch, so that a write following the line is seen too.
            await new Promise((r) => setTimeout(r, 1500));
            requests = ((await control('GET', 'requests')) as { requests: SimRequestRecord[] }).requests;
          })
          .finally(() => stop.abort());
      }
    },
  });
  await chain;
  return { lines, requests };
}

/** The first election (every candidate UP after the hold), then HA_DC1 down. */
const ACTIVE_DOWN: Step[] = [
  { on: /serving - → HA_DC1 \(epoch 1\)/, fault: { action: 'cpeDown', body: { id: 'HA_DC1' } } },
];

const index = (lines: readonly string[], re: RegExp) => lines.findIndex((l) => re.test(l));

describe('observe mode against the zWAN simulator', () => {
  it('HA_DC1 down, then the DC site lost: would fail over Chennai with 2 branches, DIRECTOR_LOST, zero writes', async () => {
    const { lines, requests } = await runZwan(
      ['--observe', '--time-scale', '20', '--duration', '120'],
      [
        ...ACTIVE_DOWN,
        // After the fan-out's decision line (its listing then its refused fence are done).
        {
          on: /serving HA_DC1 → HA_DC2 \(epoch 2\): observe: would fail over/,
          fault: { action: 'siteDown', body: { site: 'DC' } },
        },
      ],
      /notify \[DIRECTOR_LOST\]/,
    );
    const text = lines.join('\n');
    const down = index(lines, /HA_DC1 \(DC\/ACTIVE\)\s+UP → DOWN/);
    const would = index(
      lines,
      /notify \[OBSERVE FAILOVER\] lab-tenant#Chennai HA_DC1 → HA_DC2 \(epoch 2\): observe: would fail over Chennai HA_DC1 → HA_DC2: 2 branches; /,
    );
    const lost = index(lines, /notify \[DIRECTOR_LOST\]/);
    expect({ down: down >= 0, would: would > down, lost: lost > would, text }).toEqual({
      down: true,
      would: true,
      lost: true,
      text,
    });
    // The decision line the failover function prints says the same.
    expect(lines.some((l) => /serving HA_DC1 → HA_DC2 \(epoch 2\): observe: would fail over/.test(l))).toBe(
      true,
    );
    expect(requests.length).toBeGreaterThan(20); // it did talk to the directors: listings and samples
    expect(zwanWrites(requests)).toEqual([]);
  }, 150_000);

  it('the same fault in act mode fences, sets HA_STATE and re-points both branches', async () => {
    const { lines, requests } = await runZwan(
      ['--time-scale', '20', '--duration', '120'],
      ACTIVE_DOWN,
      /serving HA_DC1 → HA_DC2 \(epoch 2\).*re-pointed 2/,
    );
    expect(lines.some((l) => /notify \[FAILOVER\] lab-tenant#Chennai HA_DC1 → HA_DC2/.test(l))).toBe(true);
    const ops = zwanWrites(requests).map((r) => `${r.site} ${r.operation}`);
    expect(ops).toEqual(expect.arrayContaining(['DC fenceHaGroup', 'DC setHaState', 'DC repointBranch']));
    expect(ops.filter((o) => o === 'DC repointBranch')).toHaveLength(2);
  }, 150_000);
});

/** Run the Meraki sandbox until `stopAt`; resolves the lines and every exchange the simulator logged. */
async function runMeraki(
  args: string[],
  stopAt: RegExp,
): Promise<{ lines: string[]; log: LoggedExchange[] }> {
  const options = parseSandboxArgs([
    '--director',
    'meraki',
    ...args,
    '--dynamodb-endpoint',
    process.env.DYNAMODB_ENDPOINT ?? '',
  ]);
  const log: LoggedExchange[] = [];
  options.merakiLog = log;
  const lines: string[] = [];
  const stop = new AbortController();
  let stopping: NodeJS.Timeout | undefined;
  await runSandbox(options, {
    signal: stop.signal,
    output: (line) => {
      lines.push(line);
      if (!stopping && stopAt.test(line)) stopping = setTimeout(() => stop.abort(), 1500);
    },
  });
  return { lines, log };
}

const merakiWrites = (log: readonly LoggedExchange[]) => log.filter((e) => e.method !== 'GET');

describe('observe mode against the Meraki simulator', () => {
  it('N_1 loses 45 % to london: would fail over N_1 onto paris, no tag write, no action batch', async () => {
    const { lines, log } = await runMeraki(
      ['--observe', '--time-scale', '60', '--duration', '60'],
      /notify \[OBSERVE FAILOVER\] sandbox-org#N_1 /,
    );
    const text = lines.join('\n');
    expect({
      would: lines.some((l) =>
        /notify \[OBSERVE FAILOVER\] sandbox-org#N_1 .*observe: would fail over N_1 from Branch 1 → london to Branch 1 → paris: 1 branch; /.test(
          l,
        ),
      ),
      text,
    }).toEqual({ would: true, text });
    expect(lines.filter((l) => /tags swapped/.test(l))).toEqual([]);
    expect(log.length).toBeGreaterThan(5);
    expect(merakiWrites(log).map((e) => `${e.method} ${e.path}`)).toEqual([]);
  }, 150_000);

  it('the same fault in act mode writes the tags', async () => {
    const { log } = await runMeraki(
      ['--time-scale', '60', '--duration', '60'],
      /meraki N_1: tags swapped, tunnel london → paris/,
    );
    expect(merakiWrites(log).length).toBeGreaterThan(0);
  }, 150_000);
});
