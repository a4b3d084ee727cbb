/**
 * DR workflows in the checker: the real DR tasks (shared/dr/tasks.ts) run in the order the
 * SwitchoverDcToDr and FailbackDrToDc state machines of cdk/constructs/dr-workflows.ts run them,
 * each task one invocation of the DR function (an actor of the scheduler: it interleaves with
 * every other actor and can crash or time out), with the machine's Retry rules matched by error
 * name, and its failure chain (Compensate → NotifyFailure → ReleaseLockAfterFailure → Fail).
 * Step Functions itself (its waits between attempts) is the harness, not the code under test.
 *
 * Left out: the backup and restore steps (both directors start with the whole configuration, as
 * after a drill) and the cleanup bookkeeping of backups there are none of. Kept: ValidateInput,
 * AcquireLock, Require…Active, Check…DirectorHealthy (the step after the restore), the approval
 * (RequestApproval, then an approval given at once, CheckApproval), Fence…Site, Make…Active,
 * Set…ManagementUrl, ListSshOnboardedCpes (and the operator reboots what it lists),
 * MarkCleanupPending (failback), NotifySuccess, ReleaseLock.
 */
import {
  DR_STATE_NAMES,
  FENCE_RETRY_INTERVAL_SEC,
  TRANSIENT_ERRORS,
  fenceStateName,
} from '../../shared/dr/machine.js';
import type { SiteName } from '../../shared/domain/model.js';
import type { DrTasks } from '../../shared/dr/tasks.js';
import type { SimScheduler } from './scheduler.js';

/** The two workflows that change the site roles. */
export type DrWorkflow = 'SwitchoverDcToDr' | 'FailbackDrToDc';

/** One Retry rule of a state (`maxAttempts` retries after the first attempt). */
interface RetryRule {
  errors: readonly string[];
  intervalSec: number;
  backoff: number;
  maxAttempts: number;
}

/** What one invocation of the DR function ended with (the checker's `invoke`). */
export type DrInvocation =
  { ok: true; value: unknown; crashed: boolean } | { ok: false; error: unknown; crashed: boolean };

/** One execution as the checker saw it. */
export interface DrRun {
  workflow: DrWorkflow;
  name: string;
  startedAt: number;
  endedAt?: number;
  /** SUCCEEDED, or the Fail state's error name. */
  outcome?: string;
  /** The site the workflow makes ACTIVE. */
  target: SiteName;
  /** Make…Active returned (the roles are the target's, whatever failed later). */
  rolesChanged: boolean;
}

/** What the driver needs from the schedule. */
export interface DrDriverParts {
  sched: SimScheduler;
  /** One invocation of the DR function: fresh tasks over the schedule's store and directors. */
  invoke: (stateName: string, fn: (tasks: DrTasks) => Promise<unknown>) => Promise<DrInvocation>;
  note: (line: string) => void;
  /** `dr.drainAfterSec`: the fence's retry budget follows it (as in the definition). */
  drainAfterSec: number;
  /** The operator reboots the SSH-onboarded CPEs a switchover or failback listed. */
  reboot: (ids: string[]) => void;
  /** Told when an execution ends (S6 arms its deadline on a success). */
  onEnd?: (run: DrRun) => void;
}

/** A named error of a state, as Step Functions carries it (`$.error`). */
class StateError extends Error {
  constructor(
    readonly error: string,
    readonly detail: string,
  ) {
    super(`${error}: ${detail}`);
    this.name = 'StateError';
  }
}

const TRANSIENT: RetryRule = { errors: TRANSIENT_ERRORS, intervalSec: 5, backoff: 2, maxAttempts: 4 };
const ALL: RetryRule = { errors: ['States.ALL'], intervalSec: 5, backoff: 2, maxAttempts: 4 };

/**
 * Runs switchovers and failbacks. An execution name started again is the same execution (Step
 * Functions' StartExecution is idempotent by name): not started twice.
 */
export class DrDriver {
  readonly runs: DrRun[] = [];
  private readonly names = new Set<string>();
  running = 0;

  constructor(private readonly parts: DrDriverParts) {}

  /** Start an execution now (in the background); false when `name` ran already. */
  start(workflow: DrWorkflow, name: string, input: Record<string, unknown>): boolean {
    if (this.names.has(name)) return false;
    this.names.add(name);
    void this.execute(workflow, name, input);
    return true;
  }

  /** Time the last execution ended (undefined: none ended). */
  get lastEndedAt(): number | undefined {
    return this.runs.reduce<number | undefined>((t, r) => Math.max(t ?? 0, r.endedAt ?? 0), undefined);
  }

  /** One state: invoke its task until it succeeds or no Retry rule matches (then StateError). */
  private async state(
    stateName: string,
    rules: readonly RetryRule[],
    fn: (tasks: DrTasks) => Promise<unknown>,
  ): Promise<unknown> {
    const attempts = new Map<RetryRule, number>();
    for (;;) {
      const r = await this.parts.invoke(stateName, fn);
      if (r.ok) return r.value;
      // A crashed or timed-out function: Step Functions sees Runtime.ExitError / Sandbox.Timedout,
      // which no rule here names (only States.ALL matches it).
      const e = r.error as { name?: string; message?: string };
      const name = r.crashed ? 'Runtime.ExitError' : (e?.name ?? 'Error');
      const cause = r.crashed ? 'the function crashed or timed out' : String(e?.message ?? '');
      const rule = rules.find((x) => x.errors.includes(name) || x.errors.includes('States.ALL'));
      const n = rule ? (attempts.get(rule) ?? 0) : 0;
      if (!rule || n >= rule.maxAttempts) throw new StateError(name, cause);
      attempts.set(rule, n + 1);
      await this.parts.sched.harnessSleep(rule.intervalSec * 1000 * rule.backoff ** n);
    }
  }

  private async execute(workflow: DrWorkflow, name: string, input: Record<string, unknown>): Promise<void> {
    const { note } = this.parts;
    const target: SiteName = workflow === 'SwitchoverDcToDr' ? 'DR' : 'DC';
    const old: SiteName = target === 'DR' ? 'DC' : 'DR';
    const run: DrRun = { workflow, name, startedAt: this.parts.sched.now, target, rolesChanged: false };
    this.runs.push(run);
    this.running++;
    note(`dr: ${workflow} ${name} started`);
    const executionId = `arn:aws:states:eu-west-1:000000000000:execution:cpe-failover-checker-${workflow}:${name}`;
    const base = (task: string, stateName: string) => ({ task, workflow, executionId, stateName });
    const $: Record<string, unknown> = {};
    const call = (stateName: string, task: string, args: Record<string, unknown>, rules = [TRANSIENT]) =>
      this.state(stateName, rules, (tasks) =>
        (tasks[task as keyof DrTasks] as (p: unknown) => Promise<unknown>)({
          ...base(task, stateName),
          ...args,
        }),
      );
    const end = (outcome: string) => {
      run.endedAt = this.parts.sched.now;
      run.outcome = outcome;
      this.running--;
      note(`dr: ${workflow} ${name} ended ${outcome}${run.rolesChanged ? ' (roles changed)' : ''}`);
      this.parts.onEnd?.(run);
    };
    // Not caught: ValidateInput, AcquireLock (nothing to undo yet).
    try {
      $.input = await call(DR_STATE_NAMES.validate, 'validateInput', { input }, []);
      // As the definition: any failure but a lock held by another (or a bad input) is retried.
      $.lock = await call(DR_STATE_NAMES.lock, 'acquireLock', {}, [
        { errors: ['WorkflowLockedError', 'ValidationError'], intervalSec: 0, backoff: 1, maxAttempts: 0 },
        { errors: ['States.ALL'], intervalSec: 2, backoff: 2, maxAttempts: 4 },
      ]);
    } catch (error) {
      return end(error instanceof StateError ? error.error : String(error));
    }
    try {
      $.sites = await call(`Require${target === 'DR' ? 'Dc' : 'Dr'}Active`, 'requireActive', { site: old });
      $.health = await call(`Check${target}DirectorHealthy`, 'checkDirectorHealthy', { site: target }, [
        { ...TRANSIENT, errors: [...TRANSIENT_ERRORS, 'DirectorUnhealthyError'], maxAttempts: 6 },
      ]);
      if ((input as { approval?: boolean }).approval === true) {
        await this.state(DR_STATE_NAMES.requestApproval, [], (tasks) =>
          tasks.requestApproval({
            ...base('requestApproval', DR_STATE_NAMES.requestApproval),
            taskToken: `token-${name}`,
          }),
        );
        // The operator approves at once.
        $.approval = await call('CheckApproval', 'checkApproval', {
          approval: { approved: true, by: 'checker' },
        });
      }
      $.fence = await call(fenceStateName(old), 'fenceOldSite', { site: old }, [
        {
          errors: ['OldSiteNotFencedError'],
          intervalSec: FENCE_RETRY_INTERVAL_SEC,
          backoff: 1,
          maxAttempts: Math.ceil(this.parts.drainAfterSec / FENCE_RETRY_INTERVAL_SEC) + 2,
        },
        TRANSIENT,
      ]);
      $.roles = await call(`Make${target}Active`, 'setSiteRoles', { active: target, fence: $.fence });
      run.rolesChanged = true;
      $.managementUrl = await call(`Set${target === 'DR' ? 'Dr' : 'Dc'}ManagementUrl`, 'setManagementUrl', {
        site: target,
      });
      const ssh = (await call('ListSshOnboardedCpes', 'listSshCpes', { site: target })) as {
        cpes: { id: string }[];
      };
      $.sshCpes = ssh;
      this.parts.reboot(ssh.cpes.map((c) => c.id));
      if (workflow === 'FailbackDrToDc')
        $.cleanup = await call('MarkCleanupPending', 'markCleanupPending', { roles: $.roles });
      await call('NotifySuccess', 'notify', { outcome: 'SUCCEEDED', state: $ });
    } catch (error) {
      if (!(error instanceof StateError)) throw error;
      $.error = { Error: error.error, Cause: error.detail };
      await this.failure($, call, target, old);
      return end(error.error);
    }
    try {
      await call(DR_STATE_NAMES.release, 'releaseLock', {}, [ALL]);
    } catch (error) {
      return end(error instanceof StateError ? error.error : String(error));
    }
    end('SUCCEEDED');
  }

  /** Compensate → NotifyFailure → ReleaseLockAfterFailure (each failure caught into the next). */
  private async failure(
    $: Record<string, unknown>,
    call: (
      stateName: string,
      task: string,
      args: Record<string, unknown>,
      rules?: RetryRule[],
    ) => Promise<unknown>,
    target: SiteName,
    old: SiteName,
  ): Promise<void> {
    try {
      $.compensation = await call('Compensate', 'compensate', { state: { ...$ }, target, oldSite: old });
    } catch {
      // Compensate's Catch goes to NotifyFailure.
    }
    try {
      await call('NotifyFailure', 'notify', { outcome: 'FAILED', state: { ...$ } });
    } catch {
      // NotifyFailure's Catch goes to ReleaseLockAfterFailure.
    }
    try {
      await call('ReleaseLockAfterFailure', 'releaseLock', {}, [ALL]);
    } catch {
      // The lock stays until its TTL; the execution fails either way.
    }
  }
}
