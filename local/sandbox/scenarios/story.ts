/**
 * A DR story judged by the world: after each act, where each branch's tunnels are in the
 * simulated world (not what the controller printed) against where the story says they must be,
 * printed and reported (`ctx.reportAct`: the e2e tests assert on these). The story ends with one
 * verdict line, and the sandbox exits non-zero when any act found a branch elsewhere.
 */
import type { SimCpe, SimWorld } from '../../simulator/zwan/world.js';
import type { ActReport, SandboxContext } from '../parts.js';

/** Where a branch must be after an act: a concentrator id, or one per branch. */
export type Expected = string | ((branch: SimCpe) => string);

/** The story's record of its acts. */
export class Story {
  private readonly failures: string[] = [];
  private acts = 0;

  constructor(
    private readonly ctx: SandboxContext,
    private readonly world: SimWorld,
  ) {}

  /** The world's branches, in id order. */
  branches(): SimCpe[] {
    return [...this.world.cpes.values()]
      .filter((c) => !this.world.isConcentrator(c))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  private placement(expected: Expected): ActReport['branches'] {
    return this.branches().map((b) => {
      const on = this.world.currentTarget(b.id);
      return {
        id: b.id,
        name: b.name,
        ...(on !== undefined ? { on } : {}),
        expected: typeof expected === 'string' ? expected : expected(b),
        ...(b.managedBy ? { managedBy: b.managedBy } : {}),
      };
    });
  }

  /** True when every branch is where `expected` says, in the world now. */
  settled(expected: Expected): boolean {
    return this.placement(expected).every((b) => b.on === b.expected);
  }

  /**
   * Wait until every branch is where `expected` says (or `timeoutMs` passes, or the sandbox
   * stops), then judge the act: print each branch's place from the world, report it, and record
   * a failure when one is elsewhere.
   */
  async act(
    title: string,
    expected: Expected,
    timeoutMs: number,
    sleep: (ms: number) => Promise<void>,
  ): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (!this.settled(expected) && Date.now() < until && !this.ctx.signal.aborted) await sleep(250);
    const branches = this.placement(expected);
    const ok = branches.every((b) => b.on === b.expected);
    this.acts++;
    this.ctx.print(`   world after "${title}":`);
    for (const b of branches) {
      const where = b.on ?? 'no tunnel established';
      const mark = b.on === b.expected ? '✓' : `✗ (the story says ${b.expected})`;
      this.ctx.print(
        `     ${b.name} tunnels on ${where}, managed by the ${b.managedBy ?? '?'} director ${mark}`,
      );
    }
    if (!ok) {
      const wrong = branches
        .filter((b) => b.on !== b.expected)
        .map((b) => `${b.name} on ${b.on ?? 'nothing'} (expected ${b.expected})`);
      this.failures.push(`${title}: ${wrong.join(', ')}`);
    }
    this.ctx.reportAct({ act: title, branches, ok });
    return ok;
  }

  /** Print the verdict line and stop the sandbox (non-zero exit when an act failed). */
  finish(name: string): void {
    const verdict =
      this.failures.length === 0
        ? `verdict: ${name} PASSED: after each of ${this.acts} acts every branch was where the story says (from the simulated world)`
        : `verdict: ${name} FAILED: ${this.failures.join('; ')}`;
    this.ctx.print(verdict);
    this.ctx.finish({ failed: this.failures.length > 0, verdict });
  }

  /** Record a failure that is not about a branch's place (a workflow that did not succeed). */
  fail(what: string): void {
    this.failures.push(what);
  }
}
