/**
 * local/tools/cost.ts: the bill's quantities follow the synthesized templates (a different
 * schedule, memory size, sampling, retention or alarm count changes the figure), and the
 * schedule arithmetic is right.
 */
import { synthTemplates, type CfnTemplate } from '../../../cdk/assembly.js';
import { FUNCTION_ENV, FUNCTION_METADATA_KEY } from '../../../cdk/constructs/function.js';
import { ValidationError } from '../../../shared/errors.js';
import { costTable, monthlyBill, PRICES, REQUESTS, total, type CostLine } from '../../../local/tools/cost.js';
import { runsPerMonth, templateFacts } from '../../../local/tools/cost-template.js';

const MONTH_MIN = 30.44 * 1440;
let stateful: CfnTemplate;
let stateless: CfnTemplate;

beforeAll(() => {
  ({ stateful, stateless } = synthTemplates('example'));
});

const copy = (t: CfnTemplate): CfnTemplate => structuredClone(t);
const line = (lines: CostLine[], item: string): CostLine => {
  const found = lines.find((l) => l.item === item);
  if (!found) throw new Error(`no line ${item} in ${lines.map((l) => l.item).join(', ')}`);
  return found;
};
/** The resource of a controller function, by its app name. */
function fnResource(t: CfnTemplate, name: string) {
  const r = Object.values(t.Resources).find((x) => x.Metadata?.[FUNCTION_METADATA_KEY] === name);
  if (!r?.Properties) throw new Error(`no function ${name}`);
  return r.Properties;
}
/** The schedule rule that targets a function, by its app name. */
function ruleOf(t: CfnTemplate, name: string) {
  const id = Object.entries(t.Resources).find(([, x]) => x.Metadata?.[FUNCTION_METADATA_KEY] === name)?.[0];
  const rule = Object.values(t.Resources).find(
    (x) => x.Type === 'AWS::Events::Rule' && JSON.stringify(x.Properties?.Targets).includes(`"${id}"`),
  );
  if (!rule?.Properties) throw new Error(`no schedule for ${name}`);
  return rule.Properties;
}

describe('runsPerMonth', () => {
  it('counts rate and cron schedules', () => {
    expect(runsPerMonth('rate(1 minute)')).toBeCloseTo(MONTH_MIN, 3);
    expect(runsPerMonth('rate(5 minutes)')).toBeCloseTo(MONTH_MIN / 5, 3);
    expect(runsPerMonth('rate(2 hours)')).toBeCloseTo(MONTH_MIN / 120, 3);
    expect(runsPerMonth('cron(0 12 * * ? *)')).toBeCloseTo(30.44, 3);
    expect(runsPerMonth('cron(0 3 ? * SUN *)')).toBeCloseTo(30.44 / 7, 3);
    expect(runsPerMonth('cron(0 8 ? * MON-FRI *)')).toBeCloseTo((5 * 30.44) / 7, 3);
    expect(runsPerMonth('cron(0/15 6,18 * * ? *)')).toBeCloseTo(8 * 30.44, 3);
    expect(runsPerMonth('cron(0 0 1 * ? *)')).toBe(1);
  });

  it('refuses an expression it cannot count, naming it', () => {
    expect(() => runsPerMonth('every minute')).toThrow(ValidationError);
    expect(() => runsPerMonth('every minute')).toThrow(/ScheduleExpression="every minute"|every minute/);
  });
});

describe('the bill follows the template', () => {
  const groups = 100;

  it('reads the schedules, memory sizes, state machines and alarms of the synthesized stacks', () => {
    const facts = templateFacts(stateful, stateless);
    const health = facts.functions['health-check'];
    expect(health?.scheduledRuns).toBeCloseTo(
      runsPerMonth(String(ruleOf(stateless, 'health-check').ScheduleExpression)),
    );
    expect(health?.memoryGb).toBe(Number(fnResource(stateless, 'health-check').MemorySize) / 1024);
    expect(facts.functions.reconcile?.scheduledRuns).toBeCloseTo(
      runsPerMonth(facts.config.reconcile.schedule),
    );
    expect(facts.stateMachines.Backup?.scheduledRuns).toBeCloseTo(runsPerMonth(facts.config.backup.schedule));
    expect(facts.stateMachines.SwitchoverDcToDr?.scheduledRuns).toBe(0);
    expect(facts.stateMachines.Backup?.states).toBeGreaterThan(5);
    const alarms = Object.values(stateless.Resources).filter(
      (r) => r.Type === 'AWS::CloudWatch::Alarm',
    ).length;
    expect(facts.alarmMetrics).toBe(alarms);
    expect(facts.kmsKeys).toBe(1);
    expect(facts.backupRetentionDays).toBeGreaterThanOrEqual(facts.config.backup.retentionDays);
  });

  it('a slower health schedule halves the health check, a bigger function doubles it', () => {
    const base = monthlyBill(templateFacts(stateful, stateless), { groups });
    const slower = copy(stateless);
    ruleOf(slower, 'health-check').ScheduleExpression = 'rate(2 minutes)';
    const slow = monthlyBill(templateFacts(stateful, slower), { groups });
    expect(line(slow, 'health-check').quantity).toBeCloseTo(line(base, 'health-check').quantity / 2);
    expect(line(slow, 'reads').quantity).toBeLessThan(line(base, 'reads').quantity);
    expect(total(slow)).toBeLessThan(total(base));

    const bigger = copy(stateless);
    const props = fnResource(bigger, 'health-check');
    props.MemorySize = Number(props.MemorySize) * 2;
    const big = monthlyBill(templateFacts(stateful, bigger), { groups });
    expect(line(big, 'health-check').monthly).toBeCloseTo(line(base, 'health-check').monthly * 2);
  });

  it("the health check is billed for its rounds' wall time, taken from the configuration the function carries", () => {
    const base = monthlyBill(templateFacts(stateful, stateless), { groups });
    const fewer = copy(stateless);
    const env = fnResource(fewer, 'health-check').Environment as { Variables: Record<string, string> };
    const config = JSON.parse(env.Variables[FUNCTION_ENV.config] ?? '{}');
    const roundsBefore = config.health.samplesPerRun - 1;
    config.health.samplesPerRun = 7;
    for (const r of Object.values(fewer.Resources)) {
      const vars = (r.Properties?.Environment as { Variables?: Record<string, string> } | undefined)
        ?.Variables;
      if (vars?.[FUNCTION_ENV.config]) vars[FUNCTION_ENV.config] = JSON.stringify(config);
    }
    const short = monthlyBill(templateFacts(stateful, fewer), { groups });
    const perRun = (lines: CostLine[], rounds: number) =>
      line(lines, 'health-check').quantity / (rounds * config.health.sampleIntervalSec + 1 + groups * 0.0025);
    expect(perRun(short, 6)).toBeCloseTo(perRun(base, roundsBefore));
    expect(line(short, 'health-check').quantity).toBeLessThan(line(base, 'health-check').quantity * 0.7);
  });

  it('a reconcile every 10 minutes reads half as much in its passes', () => {
    const base = templateFacts(stateful, stateless);
    const rarer = copy(stateless);
    ruleOf(rarer, 'reconcile').ScheduleExpression = 'rate(10 minutes)';
    const facts = templateFacts(stateful, rarer);
    const reads = (f: typeof base, g: number) =>
      line(monthlyBill(f, { groups: g, tenants: 1 }), 'reads').quantity;
    // The part of the reads that grows with the groups: health runs × 1 + passes × 6 per group.
    const perGroup = (f: typeof base) => (reads(f, 1000) - reads(f, 100)) / 900;
    const healthRuns = base.functions['health-check']?.scheduledRuns ?? 0;
    const passes = base.functions.reconcile?.scheduledRuns ?? 0;
    expect(perGroup(base)).toBeCloseTo(
      healthRuns * REQUESTS.healthReadsPerGroup + passes * REQUESTS.reconcileReadsPerGroup,
    );
    expect(perGroup(facts)).toBeCloseTo(healthRuns + (passes / 2) * REQUESTS.reconcileReadsPerGroup);
  });

  it("backups are stored for the bucket's Object Lock retention; alarms and dashboards are counted", () => {
    const base = monthlyBill(templateFacts(stateful, stateless), { groups });
    const longer = copy(stateful);
    const bucket = Object.values(longer.Resources).find((r) => r.Properties?.ObjectLockEnabled);
    const lock = bucket?.Properties?.ObjectLockConfiguration as {
      Rule: { DefaultRetention: { Days: number } };
    };
    lock.Rule.DefaultRetention.Days = 365;
    const kept = monthlyBill(templateFacts(longer, stateless), { groups });
    expect(line(kept, 'backup storage').quantity).toBeCloseTo(
      (line(base, 'backup storage').quantity * 365) / 90,
    );

    const fewer = copy(stateless);
    const alarmId = Object.entries(fewer.Resources).find(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')?.[0];
    delete fewer.Resources[alarmId ?? ''];
    const less = monthlyBill(templateFacts(stateful, fewer), { groups });
    expect(line(less, 'alarms').monthly).toBeCloseTo(line(base, 'alarms').monthly - PRICES.alarmMetricMonth);
    expect(line(base, 'dashboards').monthly).toBe(PRICES.dashboardMonth);
  });

  it('refuses a group count that is not a positive integer, naming it', () => {
    const facts = templateFacts(stateful, stateless);
    expect(() => monthlyBill(facts, { groups: 0 })).toThrow(/groups=0: expected a positive integer/);
    expect(() => monthlyBill(facts, { groups: 2.5 })).toThrow(ValidationError);
  });

  it('prints one column per group count, lines in the same order, and totals that add up', () => {
    const facts = templateFacts(stateful, stateless);
    const table = costTable(facts, [1, 100, 1000]);
    const rows = table.split('\n');
    expect(rows[0]).toBe('| service | item | 1 group | 100 groups | 1,000 groups |');
    expect(rows).toHaveLength(2 + monthlyBill(facts, { groups: 1 }).length + 1);
    const totals = [1, 100, 1000].map((g) => total(monthlyBill(facts, { groups: g })));
    expect(totals[0]).toBeLessThan(totals[1] ?? 0);
    expect(totals[1]).toBeLessThan(totals[2] ?? 0);
    expect(rows.at(-1)).toBe(`| **total** | | ${totals.map((t) => `**$${t.toFixed(2)}**`).join(' | ')} |`);
  });
});
