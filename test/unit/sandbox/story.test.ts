/** The DR story's judge: acts are judged from the world's placement; one wrong act fails the verdict. */
import { fileURLToPath } from 'node:url';
import type { ActReport, SandboxContext } from '../../../local/sandbox/parts.js';
import { Story } from '../../../local/sandbox/scenarios/story.js';
import { DEFAULT_TOPOLOGY_PATH, loadTopology } from '../../../local/simulator/topology.js';
import { createWorld } from '../../../local/simulator/zwan/world.js';

async function setup() {
  const world = createWorld(await loadTopology(fileURLToPath(DEFAULT_TOPOLOGY_PATH)));
  const printed: string[] = [];
  const acts: ActReport[] = [];
  const finished: { failed: boolean; verdict: string }[] = [];
  const ctx = {
    signal: new AbortController().signal,
    print: (line: string) => printed.push(line),
    reportAct: (a: ActReport) => acts.push(a),
    finish: (r: { failed: boolean; verdict: string }) => finished.push(r),
  } as unknown as SandboxContext;
  return { world, story: new Story(ctx, world), printed, acts, finished };
}

describe('Story', () => {
  it('passes when every act found every branch where the story says', async () => {
    const s = await setup();
    expect(await s.story.act('start', 'HA_DC1', 0, async () => {})).toBe(true);
    s.story.finish('lab');
    expect(s.finished).toEqual([{ failed: false, verdict: expect.stringMatching(/^verdict: lab PASSED/) }]);
    expect(s.acts[0]?.branches.map((b) => [b.id, b.on, b.expected])).toEqual([
      ['BR1', 'HA_DC1', 'HA_DC1'],
      ['BR2', 'HA_DC1', 'HA_DC1'],
    ]);
  });

  it('fails, naming the act and the branch, when the world has a branch elsewhere', async () => {
    const s = await setup();
    s.world.driftBranch('BR2', 'HA_DC2');
    expect(await s.story.act('after the switchover', 'HA_DC1', 0, async () => {})).toBe(false);
    s.story.finish('lab');
    expect(s.finished[0]).toEqual({
      failed: true,
      verdict: 'verdict: lab FAILED: after the switchover: BR2 on HA_DC2 (expected HA_DC1)',
    });
    expect(s.printed.some((l) => /BR2 tunnels on HA_DC2.*✗ \(the story says HA_DC1\)/.test(l))).toBe(true);
  });
});
