/**
 * Helpers of the Meraki simulator's integration tests: a simulator on a manual clock (series,
 * tunnels, limits and batch timers all advance only when the test says), and raw HTTP calls.
 */
import { generateOrganization } from '../../../local/simulator/meraki/generate.js';
import {
  createMerakiSimulator,
  type MerakiSimulator,
  type MerakiSimulatorOptions,
  type SimOrganization,
} from '../../../local/simulator/meraki/server.js';

/** A simulator whose clocks and timers the test moves. */
export interface ClockedSim {
  sim: MerakiSimulator;
  /** Move every clock forward, running the timers that fall due in order. */
  advance(ms: number): void;
  now(): number;
  /** GET/POST/DELETE below the API base with the API key; the JSON body (undefined when empty). */
  call(
    path: string,
    init?: { method?: string; body?: unknown; key?: string | null },
  ): Promise<{ status: number; headers: Headers; body: unknown }>;
}

/** Start a simulator on a manual clock (epoch 2026-11-21T12:00:30Z). */
export async function clockedSim(
  organizations: SimOrganization[] = [generateOrganization({ id: 'o1', networks: 7 })],
  options: Partial<MerakiSimulatorOptions> = {},
): Promise<ClockedSim> {
  let t = Date.parse('2026-11-21T12:00:30Z');
  let timers: { at: number; fn: () => void }[] = [];
  const sim = await createMerakiSimulator({
    organizations,
    rateLimit: false,
    now: () => t,
    monotonicNow: () => t,
    setTimer: (ms, fn) => timers.push({ at: t + ms, fn }),
    ...options,
  });
  return {
    sim,
    now: () => t,
    advance(ms) {
      const end = t + ms;
      for (;;) {
        const due = timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((x) => x !== due);
        t = Math.max(t, due.at);
        due.fn();
      }
      t = end;
    },
    async call(path, init = {}) {
      const key = init.key === undefined ? sim.apiKey : init.key;
      const res = await fetch(`${sim.baseUrl}${path}`, {
        method: init.method ?? 'GET',
        headers: {
          'content-type': 'application/json',
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
    },
  };
}
