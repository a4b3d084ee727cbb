/**
 * The Concentrator page as HTML: a pure function of the view model (./view.ts), the outcome of
 * the last button press (./actions.ts) and the host's buttons (./controls.ts). Every value from
 * a director or an operator is escaped. No script: the dashboard allows none.
 */
import type { UpdateBranchesGroup } from '../failover/console.js';
import { fieldName, MONITOR_SCOPE, type PageOutcome } from './actions.js';
import { esc, type PageControls } from './controls.js';
import type { CandidateView, GroupView, MonitorView, PageView } from './view.js';

const STYLE = `<style>
.cp{font:13px/1.4 system-ui,sans-serif;color:#16191f}
.cp h1{font-size:18px;margin:0 0 4px}.cp h2{font-size:15px;margin:16px 0 4px}.cp h3{font-size:13px;margin:10px 0 4px}
.cp table{border-collapse:collapse;margin:4px 0}.cp th,.cp td{border:1px solid #d5dbdb;padding:3px 6px;text-align:left;vertical-align:top}
.cp th{background:#f2f3f3}.cp .muted{color:#687078}.cp .group{border-top:2px solid #879596;margin-top:12px}
.cp .UP{color:#1d8102;font-weight:600}.cp .DOWN{color:#d13212;font-weight:600}.cp .UNKNOWN{color:#687078;font-weight:600}
.cp tr.drift td{background:#fde8e4}.cp .badge{display:inline-block;padding:0 6px;border-radius:8px;background:#d13212;color:#fff;margin-right:4px}
.cp .serving{background:#e9f5e4}.cp .ok{border:1px solid #1d8102;background:#f2faf0;padding:6px;margin:8px 0}
.cp .error{border:1px solid #d13212;background:#fdf3f1;padding:6px;margin:8px 0}
.cp form.act{display:inline-block;margin:4px 8px 4px 0}.cp label{margin-right:10px;white-space:nowrap}.cp input,.cp select{margin-left:2px}
.cp .btn{display:inline-block;border:1px solid #545b64;border-radius:2px;padding:2px 10px;background:#fff;cursor:pointer;margin:4px 8px 4px 0}
.cp .btn.primary{background:#ec7211;border-color:#ec7211;color:#fff}
</style>`;

function time(iso: string | undefined): string {
  return iso ? `<time datetime="${esc(iso)}">${esc(iso)}</time>` : '<span class="muted">—</span>';
}

function input(scope: string, field: string, label: string, placeholder = ''): string {
  return `<label>${esc(label)} <input name="${esc(fieldName(scope, field))}" placeholder="${esc(placeholder)}"></label>`;
}

function planTable(groups: readonly UpdateBranchesGroup[]): string {
  const rows = groups.flatMap((g) =>
    g.plan.map(
      (p) =>
        `<tr data-plan-branch="${esc(p.branchId)}"><td>${esc(g.groupKey)}</td><td>${esc(p.branchId)}</td>` +
        `<td>${esc(p.from ?? '—')}</td><td>${esc(p.to)}</td></tr>`,
    ),
  );
  if (rows.length === 0) return '<p class="plan-empty">No branch to re-point.</p>';
  return `<table class="plan"><tr><th>group</th><th>branch</th><th>from</th><th>to</th></tr>${rows.join('')}</table>`;
}

function outcomeBox(outcome: PageOutcome, controls: PageControls): string {
  if (!outcome.ok) {
    const issues = outcome.issues?.length
      ? `<table class="issues"><tr><th>field</th><th>value</th><th>expected</th></tr>${outcome.issues
          .map(
            (i) =>
              `<tr><td>${esc(i.path || '(root)')}</td><td>${esc(JSON.stringify(i.value) ?? 'undefined')}</td><td>${esc(i.expected)}</td></tr>`,
          )
          .join('')}</table>`
      : '';
    return `<div class="error" data-outcome="error" role="alert"><b>${esc(outcome.action)} refused, nothing changed</b> (or failed): ${esc(outcome.message)}${issues}</div>`;
  }
  const plan = outcome.groups ? planTable(outcome.groups) : '';
  const apply =
    outcome.applyTo && outcome.groups?.some((g) => g.plan.length > 0 && !g.held)
      ? controls.form({ action: 'apply', ...outcome.applyTo }, 'Apply: Update Branch to Active Node', '', {
          primary: true,
          confirm: 'Re-point these branches now?',
        })
      : '';
  return `<div class="ok" data-outcome="${esc(outcome.action)}"><b>${esc(outcome.message)}</b>${plan}${apply}</div>`;
}

function monitorSection(m: MonitorView, controls: PageControls): string {
  const directors = m.directors.length
    ? `<table><tr><th>director</th><th>role</th><th>reachable</th><th>why</th></tr>${m.directors
        .map(
          (d) =>
            `<tr><td>${esc(d.site)}</td><td>${esc(m.siteRoles[d.site])}</td><td>${d.reachable ? 'yes' : `<b class="DOWN">no</b> since ${time(d.since)}`}</td>` +
            `<td>${esc(d.reason ?? (d.monitorBlind ? 'monitor blind' : ''))}</td></tr>`,
        )
        .join('')}</table>`
    : `<p class="muted">No director status recorded yet (DC ${esc(m.siteRoles.DC)}, DR ${esc(m.siteRoles.DR)}).</p>`;
  const ack =
    m.blind || m.case === 'mass-down'
      ? controls.form(
          { action: 'ack-monitor-blind' },
          'Acknowledge MONITOR_BLIND',
          input(MONITOR_SCOPE, 'reason', 'reason', 'checked: DC really lost them') +
            input(MONITOR_SCOPE, 'by', 'by', 'you@example.com'),
          { confirm: 'Let failover act on the current health view?' },
        )
      : '';
  return `<section class="monitor" data-monitor="${esc(m.case)}"><h2>Monitor: ${
    m.blind ? '<span class="badge">MONITOR_BLIND</span>' : 'clear'
  }</h2><p>${esc(m.explanation)}</p>${directors}${ack}</section>`;
}

function candidateRow(c: CandidateView): string {
  const s = c.sample;
  const sample = s
    ? `${s.reachable ? '' : '<b class="DOWN">unreachable</b> '}loss ${esc(s.lossPct ?? '—')}%, ${esc(s.latencyMs ?? '—')} ms<br><span class="muted">${esc(s.at)}</span>`
    : '<span class="muted">—</span>';
  const wans = c.wans.map(
    (w) => `${esc(w.wan)} ${esc(w.publicIp)}${w.publicPort !== undefined ? `:${esc(w.publicPort)}` : ''}`,
  );
  const tunnels = c.tunnels.map((t) => `${esc(t.name)} ${esc(t.tunnelId)} ${esc(t.state)}`);
  return (
    `<tr data-candidate="${esc(c.id)}"${c.serving ? ' class="serving"' : ''}><td>${esc(c.name)}${c.name !== c.id ? ` <span class="muted">${esc(c.id)}</span>` : ''}${c.serving ? ' <b>(serving)</b>' : ''}</td>` +
    `<td>${esc(c.slot)}</td><td><span class="${esc(c.health)}">${esc(c.health)}</span> since ${time(c.since)}${c.healthWhy ? `<br><span class="muted">${esc(c.healthWhy)}</span>` : ''}</td>` +
    `<td>${sample}</td><td>${esc(c.haRole ?? '—')}</td><td>${wans.join('<br>') || '—'}</td><td>${tunnels.join('<br>') || '—'}</td></tr>`
  );
}

function groupSection(g: GroupView, controls: PageControls): string {
  const request = { tenantId: g.tenantId, haName: g.haName };
  const alarms = g.alarms.map((a) => `<span class="badge">${esc(a)}</span>`).join('');
  const pin = g.pin
    ? `<p class="pin">Pinned on <b>${esc(g.pin.concentratorId)}</b>${g.pin.expired ? ' (expired)' : ''}: ${esc(g.pin.reason)}${
        g.pin.by ? ` by ${esc(g.pin.by)}` : ''
      }, since ${time(g.pin.pinnedAt)}, until ${g.pin.expiresAt ? time(g.pin.expiresAt) : 'unpinned'}</p>`
    : '<p class="pin muted">Not pinned.</p>';
  const candidates = `<table class="candidates"><tr><th>concentrator</th><th>slot</th><th>health</th><th>last loss / latency</th><th>HA role</th><th>public WAN</th><th>tunnels</th></tr>${g.candidates
    .map(candidateRow)
    .join('')}</table>`;
  const branches = g.branches.length
    ? `<table class="branches"><tr><th>branch</th><th>tunnels on</th><th>tunnels</th><th>last re-point</th></tr>${g.branches
        .map(
          (b) =>
            `<tr data-branch="${esc(b.id)}" data-on="${esc(b.on ?? '')}"${b.drift ? ' class="drift"' : ''}><td>${esc(b.name)}</td>` +
            `<td>${esc(b.on ?? 'none established')}${b.drift ? ' <b>drift</b>' : ''}</td>` +
            `<td>${b.tunnels.map((t) => `${esc(t.name)} ${esc(t.state)} → ${esc(t.concentrator ?? '?')}`).join('<br>')}</td>` +
            `<td>${esc(b.lastOutcome ?? '—')}</td></tr>`,
        )
        .join('')}</table>`
    : '<p class="muted">No branches.</p>';
  const options = g.candidates
    .map((c) => `<option value="${esc(c.id)}">${esc(c.name)} (${esc(c.slot)}, ${esc(c.health)})</option>`)
    .join('');
  const actions =
    controls.form({ action: 'plan', ...request }, 'Update Branch to Active Node (dry run)', '', {
      primary: true,
    }) +
    controls.form(
      { action: 'pin', ...request },
      'Pin',
      `<label>onto <select name="${esc(fieldName(g.groupKey, 'concentratorId'))}">${options}</select></label>` +
        input(g.groupKey, 'reason', 'reason', 'maintenance window') +
        input(g.groupKey, 'expiresAt', 'expires at', '2026-12-01T06:00:00Z') +
        input(g.groupKey, 'expiresInMinutes', 'or in minutes', '120') +
        `<label><input type="checkbox" name="${esc(fieldName(g.groupKey, 'force'))}"> force</label>` +
        input(g.groupKey, 'by', 'by', 'you@example.com'),
    ) +
    (g.pin
      ? controls.form(
          { action: 'unpin', ...request },
          'Unpin',
          input(g.groupKey, 'reason', 'reason', 'maintenance over') +
            input(g.groupKey, 'by', 'by', 'you@example.com'),
        )
      : '');
  const timeline = g.timeline.length
    ? `<table class="timeline"><tr><th>when</th><th>what</th><th>change</th><th>why</th><th>who</th></tr>${g.timeline
        .map(
          (t) =>
            `<tr><td>${time(t.at)}</td><td>${esc(t.kind)}</td><td>${esc(t.from ?? '')}${t.from || t.to ? ' → ' : ''}${esc(t.to ?? '')}</td>` +
            `<td>${esc(t.reason ?? '')}</td><td>${esc(t.by ?? 'controller')}</td></tr>`,
        )
        .join('')}</table>`
    : '<p class="muted">Nothing recorded today or yesterday.</p>';
  return (
    `<section class="group" data-group="${esc(g.groupKey)}"><h2>${esc(g.tenantId)} / ${esc(g.haName)} ${alarms}</h2>` +
    `<p>Serving <b class="serving-id">${esc(g.servingId ?? 'none')}</b>, epoch ${esc(g.epoch)}${g.reason ? `: ${esc(g.reason)}` : ''}${
      g.changedAt ? `, since ${time(g.changedAt)}` : ''
    }</p>${pin}<h3>Candidates</h3>${candidates}<h3>Branches</h3>${branches}<h3>Actions</h3>${actions}<h3>Timeline</h3>${timeline}</section>`
  );
}

/** Options of {@link renderPage}. */
export interface RenderOptions {
  controls: PageControls;
  /** The last button press's outcome, shown on top. */
  outcome?: PageOutcome;
  /** Wrap in a whole document (the sandbox); the widget returns the fragment. @default false */
  document?: boolean;
}

/** The page's HTML. */
export function renderPage(view: PageView, options: RenderOptions): string {
  const { controls } = options;
  const refresh = controls.refreshHref ? ` · <a href="${esc(controls.refreshHref)}">Refresh</a>` : '';
  const unavailable = view.unavailable
    .map(
      (u) =>
        `<div class="error" data-unavailable="${esc(u.tenantId)}">Tenant ${esc(u.tenantId)}: listing failed: ${esc(u.error)}</div>`,
    )
    .join('');
  const body =
    `<div class="cp">${STYLE}<h1>Concentrators</h1><p class="muted">As of ${time(view.generatedAt)}${refresh}</p>` +
    (options.outcome ? outcomeBox(options.outcome, controls) : '') +
    monitorSection(view.monitor, controls) +
    unavailable +
    (view.groups.length
      ? view.groups.map((g) => groupSection(g, controls)).join('')
      : '<p>No HA groups.</p>') +
    '</div>';
  if (!options.document) return body;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Concentrators · cpe-failover</title></head><body>${body}</body></html>`;
}
