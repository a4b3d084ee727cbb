/**
 * The Concentrator page's dashboard widget, its real entry point (middy + Powertools, deps from
 * the environment) on DynamoDB Local and the simulator: a dashboard call renders the lab, a
 * button call runs the console operation with its validation and renders the outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { LAB_GROUP, saveLabHealth, startLabFunctions, type LabFunctions } from '../../helpers/lab.js';
import { testContext } from '../../helpers/lambda-context.js';

const ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:cpe-failover-it-ConcentratorPage';
const context = { ...testContext('concentrator-page-it', 30_000), invokedFunctionArn: ARN } as Context;
const sample = (name: string) =>
  JSON.parse(readFileSync(`functions/concentrator-page/events/${name}.json`, 'utf8')) as Record<
    string,
    unknown
  >;
let lab: LabFunctions;

async function call(event: unknown): Promise<string> {
  const { handler } = await import('../../../functions/concentrator-page/handler.js');
  return (await handler(event, context)) as string;
}

beforeAll(async () => {
  lab = await startLabFunctions('page', { env: 'it' });
  await saveLabHealth(lab.repo, { HA_DC1: 'DOWN', HA_DC2: 'UP', DR: 'UP' });
});

afterAll(() => lab.stop());

describe('concentrator-page widget (real handler)', () => {
  it('renders the lab for a dashboard call: group, candidates with WAN and tunnels, branches; buttons call this function', async () => {
    const html = await call(sample('render'));
    expect(html).toContain(`data-group="${LAB_GROUP}"`);
    expect(html).toContain('lab-tenant / Chennai');
    expect(html).toMatch(
      /<tr data-candidate="HA_DC1">.*DOWN.*122\.60\.11\.21:30000.*IPSEC00 5e1c0a7d ESTABLISHED/s,
    );
    expect(html).toMatch(/<tr data-branch="BR1" data-on="HA_DC1">/);
    expect(html).toContain(`<cwdb-action action="call" endpoint="${ARN}" display="widget">`);
    expect(html).not.toContain('<!doctype');
  });

  it('answers the plan button with the dry run (to HA_DC2) and changes nothing', async () => {
    const html = await call(sample('plan'));
    expect(html).toMatch(/data-outcome="plan".*Plan \(nothing changed\)/s);
    expect(html).toMatch(
      /<tr data-plan-branch="BR1"><td>lab-tenant#Chennai<\/td><td>BR1<\/td><td>HA_DC1<\/td><td>HA_DC2<\/td>/,
    );
    expect(html).toContain('data-action="apply"');
    expect(lab.sim.requests.some((r) => r.operation === 'repointBranch')).toBe(false);
    expect(lab.sim.world.currentTarget('BR1')).toBe('HA_DC1');
  });

  it('refuses a pin with a bad expiry, showing the field and value, and changes nothing', async () => {
    const event = sample('pin') as { widgetContext: { forms: { all: Record<string, string> } } };
    const all = { ...event.widgetContext.forms.all };
    delete all[`expiresInMinutes@${LAB_GROUP}`];
    all[`expiresAt@${LAB_GROUP}`] = '2026-13-40';
    const html = await call({ ...event, widgetContext: { ...event.widgetContext, forms: { all } } });
    expect(html).toMatch(/data-outcome="error".*<td>expiresAt<\/td><td>&quot;2026-13-40&quot;<\/td>/s);
    expect((await lab.repo.getGroup(LAB_GROUP))?.pin).toBeUndefined();
    expect(lab.sim.requests.some((r) => r.operation === 'repointBranch')).toBe(false);
  });

  it('answers an unknown action naming it, and a bad event with a ValidationError', async () => {
    const html = await call({ ...sample('plan'), action: 'reboot' });
    expect(html).toMatch(/data-outcome="error".*<td>action<\/td><td>&quot;reboot&quot;<\/td>/s);
    await expect(call({ describe: 'yes' })).rejects.toThrow(/describe="yes"/);
    await expect(call({ describe: true })).resolves.toMatch(/^## Concentrators \(cpe-failover\)/);
  });

  it('pins with the sample button call: the branches move in the simulated world and the timeline says who', async () => {
    const html = await call(sample('pin'));
    expect(html).toMatch(/data-outcome="pin".*Pinned lab-tenant#Chennai on HA_DC2 until /s);
    expect(lab.sim.world.currentTarget('BR1')).toBe('HA_DC2');
    expect(lab.sim.world.currentTarget('BR2')).toBe('HA_DC2');
    const pin = (await lab.repo.getGroup(LAB_GROUP))?.pin;
    expect(pin).toMatchObject({
      concentratorId: 'HA_DC2',
      reason: 'DC1 firmware upgrade',
      by: 'noc@example.com',
    });
    const after = await call(sample('render'));
    expect(after).toMatch(/Pinned on <b>HA_DC2<\/b>: DC1 firmware upgrade by noc@example.com/);
    expect(after).toMatch(/<td>PIN<\/td>.*<td>noc@example.com<\/td>/s);
    expect(after).toContain('data-action="unpin"');
  });

  it('unpins with a reason from the form, and the timeline shows the UNPIN and who', async () => {
    const forms = {
      all: { [`reason@${LAB_GROUP}`]: 'upgrade done', [`by@${LAB_GROUP}`]: 'ops@example.com' },
    };
    const html = await call({
      ...sample('plan'),
      action: 'unpin',
      widgetContext: { dashboardName: 'd', forms },
    });
    expect(html).toMatch(/data-outcome="unpin".*Unpinned: lab-tenant#Chennai/s);
    expect((await lab.repo.getGroup(LAB_GROUP))?.pin).toBeUndefined();
    expect(html).toMatch(/<td>UNPIN<\/td><td>HA_DC2 → <\/td><td>upgrade done<\/td><td>ops@example.com<\/td>/);
  });

  it('acknowledge MONITOR_BLIND: a blank reason is refused naming the field; with one, says there is nothing to acknowledge', async () => {
    const ack = (reason: string) =>
      call({
        action: 'ack-monitor-blind',
        widgetContext: { dashboardName: 'd', forms: { all: { 'reason@monitor': reason } } },
      });
    expect(await ack('  ')).toMatch(/data-outcome="error".*<td>reason<\/td>/s);
    expect(await ack('checked with the DC team')).toMatch(
      /data-outcome="ack-monitor-blind".*the monitor is not blind: nothing to acknowledge/s,
    );
    expect(await lab.repo.listDirectorStates()).toEqual([]);
  });
});
