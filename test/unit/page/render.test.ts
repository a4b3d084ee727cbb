/** The Concentrator page's renderer: a pure function of plain view data, in both hosts' buttons. */
import { describe, expect, it } from '@jest/globals';
import { fieldName, type PageOutcome } from '../../../shared/page/actions.js';
import { esc, sandboxControls, widgetControls } from '../../../shared/page/controls.js';
import { renderPage } from '../../../shared/page/render.js';
import type { GroupView, PageView } from '../../../shared/page/view.js';

const ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:cpe-failover-page';

function group(over: Partial<GroupView> = {}): GroupView {
  return {
    groupKey: 't1#Chennai',
    tenantId: 't1',
    haName: 'Chennai',
    servingId: 'HA_DC1',
    epoch: 3,
    reason: 'failback to HA_DC1',
    changedAt: '2026-11-21T10:00:00.000Z',
    alarms: [],
    candidates: [
      {
        id: 'HA_DC1',
        name: 'HA_DC1',
        slot: 'DC/ACTIVE',
        site: 'DC',
        health: 'UP',
        since: '2026-11-21T09:55:00.000Z',
        healthWhy: 'clean for 300 s',
        sample: { reachable: true, lossPct: 2, latencyMs: 31, at: '2026-11-21T10:01:00.000Z' },
        haRole: 'ACTIVE',
        wans: [{ wan: 'WAN00', publicIp: '122.60.11.21', publicPort: 30000 }],
        tunnels: [
          { name: 'IPSEC00', haTunnelIdentifier: 'X-00', tunnelId: '5e1c0a7d', state: 'ESTABLISHED' },
        ],
        serving: true,
      },
      {
        id: 'HA_DC2',
        name: 'HA_DC2',
        slot: 'DC/PASSIVE',
        site: 'DC',
        health: 'DOWN',
        since: '2026-11-21T09:00:00.000Z',
        wans: [{ wan: 'WAN00', publicIp: '14.187.22.31' }],
        tunnels: [],
        serving: false,
      },
    ],
    branches: [
      {
        id: 'BR1',
        name: 'BR1',
        on: 'HA_DC1',
        drift: false,
        tunnels: [{ name: 'IPSEC00', state: 'ESTABLISHED', concentrator: 'HA_DC1' }],
      },
      {
        id: 'BR2',
        name: 'BR2',
        on: 'HA_DC2',
        drift: true,
        tunnels: [{ name: 'IPSEC00', state: 'ESTABLISHED', concentrator: 'HA_DC2' }],
        lastOutcome: 'failed → HA_DC1 (epoch 3): 503',
      },
    ],
    timeline: [
      {
        at: '2026-11-21T10:00:00.000Z',
        kind: 'FAILBACK',
        from: 'HA_DC2',
        to: 'HA_DC1',
        reason: 'UP again',
        by: 'noc',
      },
    ],
    ...over,
  };
}

function view(groups: GroupView[], over: Partial<PageView['monitor']> = {}): PageView {
  return {
    generatedAt: '2026-11-21T10:02:00.000Z',
    monitor: {
      blind: false,
      case: 'clear',
      explanation: 'every director answers',
      frozenSites: [],
      siteRoles: { DC: 'ACTIVE', DR: 'PASSIVE' },
      directors: [{ site: 'DC', reachable: true, monitorBlind: false }],
      ...over,
    },
    groups,
    unavailable: [],
  };
}

describe('renderPage', () => {
  it('shows serving, epoch, each candidate (slot, health since, loss/latency, HA role, WAN, tunnels) and branches with drift highlighted', () => {
    const html = renderPage(view([group()]), { controls: sandboxControls() });
    expect(html).toContain('<b class="serving-id">HA_DC1</b>, epoch 3: failback to HA_DC1');
    expect(html).toMatch(
      /<tr data-candidate="HA_DC1" class="serving">.*DC\/ACTIVE.*UP<\/span> since .*2026-11-21T09:55:00.000Z.*clean for 300 s.*loss 2%, 31 ms.*ACTIVE.*WAN00 122\.60\.11\.21:30000.*IPSEC00 5e1c0a7d ESTABLISHED/s,
    );
    expect(html).toMatch(/<tr data-candidate="HA_DC2">.*DOWN.*WAN00 14\.187\.22\.31<\/td>/s);
    expect(html).toContain('<tr data-branch="BR2" data-on="HA_DC2" class="drift">');
    expect(html).toContain('<tr data-branch="BR1" data-on="HA_DC1">');
    expect(html).toContain('failed → HA_DC1 (epoch 3): 503');
    expect(html).toMatch(/FAILBACK<\/td><td>HA_DC2 → HA_DC1<\/td><td>UP again<\/td><td>noc<\/td>/);
    expect(html).not.toContain('<!doctype html>');
    expect(renderPage(view([group()]), { controls: sandboxControls(), document: true })).toMatch(
      /^<!doctype html>/,
    );
  });

  it('escapes every name and reason that comes from a director or an operator', () => {
    const evil = '<script>alert(1)</script>"\'&';
    const g = group({
      haName: evil,
      groupKey: `t1#${evil}`,
      reason: evil,
      pin: {
        concentratorId: 'HA_DC1',
        reason: evil,
        by: evil,
        pinnedAt: '2026-11-21T10:00:00.000Z',
        expired: false,
      },
    });
    const first = g.candidates[0];
    if (first) first.name = evil;
    for (const controls of [sandboxControls(), widgetControls(ARN)]) {
      const html = renderPage(view([g]), { controls });
      expect(html).not.toContain('<script>');
      expect(html).toContain(esc(evil));
    }
  });

  it('shows the pin with ISO times, open alarms, and an Unpin form only when pinned', () => {
    const pinned = group({
      alarms: ['ALL_DOWN'],
      pin: {
        concentratorId: 'HA_DC2',
        reason: 'firmware',
        by: 'noc@example.com',
        pinnedAt: '2026-11-21T09:00:00.000Z',
        expiresAt: '2026-11-21T17:00:00.000Z',
        expired: false,
      },
    });
    const html = renderPage(view([pinned]), { controls: sandboxControls() });
    expect(html).toMatch(
      /Pinned on <b>HA_DC2<\/b>: firmware by noc@example.com, since .*2026-11-21T09:00:00.000Z.*until .*2026-11-21T17:00:00.000Z/,
    );
    expect(html).toContain('<span class="badge">ALL_DOWN</span>');
    expect(html).toContain('data-action="unpin"');
    expect(renderPage(view([group()]), { controls: sandboxControls() })).not.toContain('data-action="unpin"');
  });

  it('offers Acknowledge MONITOR_BLIND only when the monitor is blind from a mass DOWN', () => {
    const blind = renderPage(
      view([group()], { blind: true, case: 'mass-down', explanation: 'half the targets went DOWN' }),
      {
        controls: sandboxControls(),
      },
    );
    expect(blind).toContain('<span class="badge">MONITOR_BLIND</span>');
    expect(blind).toContain('data-action="ack-monitor-blind"');
    expect(blind).toContain(`name="${fieldName('monitor', 'reason')}"`);
    expect(renderPage(view([group()]), { controls: sandboxControls() })).not.toContain('ack-monitor-blind');
  });

  it('a refused action shows the field, the value and what was expected', () => {
    const outcome: PageOutcome = {
      ok: false,
      action: 'pin',
      message: 'pin event is invalid: expiresAt="tomorrow": expected an ISO-8601 time',
      issues: [{ path: 'expiresAt', value: 'tomorrow', expected: 'an ISO-8601 time' }],
    };
    const html = renderPage(view([group()]), { controls: sandboxControls(), outcome });
    expect(html).toMatch(
      /data-outcome="error".*pin refused, nothing changed.*<td>expiresAt<\/td><td>&quot;tomorrow&quot;<\/td><td>an ISO-8601 time<\/td>/s,
    );
  });

  it('a dry-run plan lists each re-point and offers Apply; a held or empty plan does not', () => {
    const plan = (held: boolean, branches: number): PageOutcome => ({
      ok: true,
      action: 'plan',
      message: 'Plan (nothing changed)',
      applyTo: { tenantId: 't1', haName: 'Chennai' },
      groups: [
        {
          groupKey: 't1#Chennai',
          servingId: 'HA_DC1',
          epoch: 3,
          held,
          reason: 'stays',
          alarms: [],
          plan: branches ? [{ branchId: 'BR2', from: 'HA_DC2', to: 'HA_DC1' }] : [],
        },
      ],
    });
    const html = renderPage(view([group()]), { controls: sandboxControls(), outcome: plan(false, 1) });
    expect(html).toMatch(
      /<tr data-plan-branch="BR2"><td>t1#Chennai<\/td><td>BR2<\/td><td>HA_DC2<\/td><td>HA_DC1<\/td><\/tr>/,
    );
    expect(html).toMatch(
      /<div class="ok" data-outcome="plan">.*data-action="apply" data-group="t1#Chennai"/s,
    );
    for (const outcome of [plan(true, 1), plan(false, 0)]) {
      expect(renderPage(view([group()]), { controls: sandboxControls(), outcome })).not.toContain(
        'data-action="apply"',
      );
    }
  });
});

describe("the hosts' buttons", () => {
  it('sandbox: a form POSTed to the page server with the action and group as hidden inputs', () => {
    const html = sandboxControls('/action').form(
      { action: 'pin', tenantId: 't1', haName: 'Chennai' },
      'Pin',
      '<input name="x">',
    );
    expect(html).toBe(
      '<form class="act" method="post" action="/action"><input type="hidden" name="action" value="pin"><input type="hidden" name="tenantId" value="t1">' +
        '<input type="hidden" name="haName" value="Chennai"><input name="x"><button type="submit" class="btn" data-action="pin" data-group="t1#Chennai">Pin</button></form>',
    );
  });

  it('widget: a cwdb-action calling the widget function with the request as JSON that cannot close the element', () => {
    const html = widgetControls(ARN).form(
      { action: 'plan', tenantId: 't1', haName: '</cwdb-action><b>' },
      'Go',
      '',
      {
        confirm: 'Sure?',
      },
    );
    const m = html.match(
      /<cwdb-action action="call" endpoint="([^"]+)" display="widget" confirmation="Sure\?">(.*)<\/cwdb-action>$/,
    );
    expect(m?.[1]).toBe(ARN);
    expect(m?.[2]).not.toContain('<');
    expect(JSON.parse(m?.[2] ?? '')).toEqual({ action: 'plan', tenantId: 't1', haName: '</cwdb-action><b>' });
  });
});
