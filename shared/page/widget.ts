/**
 * The CloudWatch dashboard custom widget: the dashboard calls the function with `widgetContext`
 * (and, for a button, the button's JSON parameters and the widget's form inputs under
 * `widgetContext.forms.all`); the function answers the page's HTML. A button press runs the
 * console operation first (./actions.ts) and the page shows its outcome on top.
 */
import * as z from 'zod/mini';
import '../config/zod-locale.js';
import { runPageAction, type PageFields } from './actions.js';
import { widgetControls } from './controls.js';
import { renderPage } from './render.js';
import { loadPageView, type PageDeps } from './view.js';

/** The widget's event: what CloudWatch sends (unknown fields are ignored). */
export const widgetEventSchema = z.object({
  /** CloudWatch asks for the widget's documentation. */
  describe: z.optional(z.boolean()),
  widgetContext: z.optional(
    z.looseObject({
      dashboardName: z.optional(z.string()),
      forms: z.optional(z.looseObject({ all: z.optional(z.record(z.string(), z.unknown())) })),
    }),
  ),
  /** A button press: which action (absent: just render). */
  action: z.optional(z.string()),
  tenantId: z.optional(z.string()),
  haName: z.optional(z.string()),
});
/** A validated widget event. */
export type WidgetEvent = z.output<typeof widgetEventSchema>;

/** What the widget shows when CloudWatch asks for its documentation. */
export const WIDGET_DESCRIPTION = [
  '## Concentrators (cpe-failover)',
  'Per tenant and HA group: the serving concentrator and epoch, each candidate (slot, health and since when, last loss and latency, HA role, public WAN IP and port, tunnels), every branch and the concentrator its tunnels are on (drift highlighted), the pin, open alarms, the monitor verdict and the recent audit trail.',
  'Buttons: "Update Branch to Active Node" (a dry run shows the plan, then Apply), Pin / Unpin with a reason and expiry, Acknowledge MONITOR_BLIND. Each runs the console function of the same name with its validation.',
  'No parameters.',
].join('\n\n');

function formFields(event: WidgetEvent): PageFields {
  const all = event.widgetContext?.forms?.all ?? {};
  return Object.fromEntries(
    Object.entries(all).map(([k, v]) => [
      k,
      Array.isArray(v) ? v.map(String).join(',') : v == null ? undefined : String(v),
    ]),
  );
}

/** Answer one widget call: the page's HTML (after running the pressed button's action, if any). */
export async function concentratorWidget(
  deps: PageDeps,
  event: WidgetEvent,
  host: { endpoint: string },
): Promise<string> {
  if (event.describe) return WIDGET_DESCRIPTION;
  const by = `dashboard ${event.widgetContext?.dashboardName ?? '(unnamed)'}`;
  const outcome =
    event.action !== undefined
      ? await runPageAction(
          deps.failover,
          { action: event.action, tenantId: event.tenantId, haName: event.haName },
          formFields(event),
          by,
        )
      : undefined;
  const view = await loadPageView(deps);
  return renderPage(view, { controls: widgetControls(host.endpoint), ...(outcome ? { outcome } : {}) });
}
