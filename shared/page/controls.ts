/**
 * How the page's buttons work in each host. The renderer (./render.ts) asks for "a form that runs
 * this action with these inputs"; the dashboard widget answers with a `<cwdb-action>` that calls
 * the widget's Lambda (CloudWatch passes the inputs as `widgetContext.forms.all`), the sandbox with
 * a plain HTML form POSTed to its page server. Pure string functions; everything is escaped.
 */
import type { PageActionRequest } from './actions.js';

/** Escape text for HTML content and attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Options of one action form. */
export interface ActionFormOptions {
  /** Ask before running (the dashboard shows its own confirmation dialog). */
  confirm?: string;
  /** The main action of its section. */
  primary?: boolean;
}

/** A host's buttons. */
export interface PageControls {
  /** A form whose button runs `request` with the `inputs` (HTML) inside it. */
  form(request: PageActionRequest, label: string, inputs: string, options?: ActionFormOptions): string;
  /** Where "Refresh" goes (absent: the host refreshes by itself, as the dashboard does). */
  readonly refreshHref?: string;
}

function requestAttrs(request: PageActionRequest): string {
  const group = request.tenantId !== undefined ? `${request.tenantId}#${request.haName ?? ''}` : '';
  return `data-action="${esc(request.action)}"${group ? ` data-group="${esc(group)}"` : ''}`;
}

/** JSON that stays JSON and cannot close the element it sits in. */
function inertJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/**
 * The sandbox page: forms POSTed to `actionPath` (application/x-www-form-urlencoded), each with
 * the page server's `csrf` token (another site's form cannot know it).
 */
export function sandboxControls(actionPath = '/action', csrf?: string): PageControls {
  return {
    refreshHref: '/',
    form(request, label, inputs, options = {}) {
      const hidden = Object.entries({ ...request, ...(csrf !== undefined ? { csrf } : {}) })
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
        .join('');
      return (
        `<form class="act" method="post" action="${esc(actionPath)}">${hidden}${inputs}` +
        `<button type="submit" class="btn${options.primary ? ' primary' : ''}" ${requestAttrs(request)}>${esc(label)}</button></form>`
      );
    },
  };
}

/** The CloudWatch dashboard widget: buttons call the widget's own function (`endpoint`, its ARN). */
export function widgetControls(endpoint: string): PageControls {
  return {
    form(request, label, inputs, options = {}) {
      const confirm = options.confirm ? ` confirmation="${esc(options.confirm)}"` : '';
      return (
        `<form class="act">${inputs}</form>` +
        `<a class="btn${options.primary ? ' btn-primary primary' : ''}" ${requestAttrs(request)}>${esc(label)}</a>` +
        `<cwdb-action action="call" endpoint="${esc(endpoint)}" display="widget"${confirm}>${inertJson(request)}</cwdb-action>`
      );
    },
  };
}
