/**
 * The checker's scheduler: which actor a step belongs to, and real I/O (the DynamoDB Local
 * slice) standing still in virtual time.
 */
import { SimScheduler } from '../../../local/sim/scheduler.js';

describe('SimScheduler', () => {
  it('the first real I/O, started inside a microtask of a step, is waited for within that step', async () => {
    const sched = new SimScheduler(1);
    const seen: string[] = [];
    const { done } = sched.spawn('a', async () => {
      // As the table does after its gate: the I/O starts one microtask into the step.
      await Promise.resolve();
      await sched.external(new Promise((resolve) => setTimeout(resolve, 20)));
      seen.push(`io done in ${sched.current()?.name ?? 'no actor'} at +${sched.now - start}`);
      await sched.sleep(10);
      seen.push(`slept in ${sched.current()?.name ?? 'no actor'} at +${sched.now - start}`);
    });
    const start = sched.now;
    sched.at(1, () => void seen.push(`harness at +${sched.now - start}`));
    await sched.runUntil(start + 1_000);
    await done;
    expect(seen).toEqual(['io done in a at +0', 'harness at +1', 'slept in a at +10']);
    expect(sched.orphanSleeps).toBe(0);
  });

  it('a step runs only its own actor: two actors interleave at their sleeps, in virtual time order', async () => {
    const sched = new SimScheduler(2);
    const seen: string[] = [];
    for (const [name, ms] of [
      ['a', 30],
      ['b', 20],
    ] as const) {
      sched.spawn(name, async () => {
        await sched.sleep(ms);
        seen.push(`${name}:${sched.current()?.name}`);
        await sched.sleep(ms);
        seen.push(`${name}:${sched.current()?.name}`);
      });
    }
    await sched.runUntil(sched.now + 1_000);
    expect(seen).toEqual(['b:b', 'a:a', 'b:b', 'a:a']);
  });
});
