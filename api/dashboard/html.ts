import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { ApiKey } from '../../service.config.js';

/**
 * The dashboard's building blocks. Every value goes through hono's `html` tag, which escapes it for text
 * and attribute context alike; nothing here builds markup by concatenating strings. Charts are a canvas
 * whose `data-chart` attribute holds the chart's numbers as JSON (read by assets/dashboard.js, and by the
 * browser tests); every chart is followed by a table of the same numbers.
 */

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export const pages = [
  { path: '/dashboard/handoffs', title: 'Handoff timelines' },
  { path: '/dashboard/lead-sla', title: 'Lead SLA' },
  { path: '/dashboard/funnel', title: 'Funnel' },
  { path: '/dashboard/planner', title: 'Planner' },
  { path: '/dashboard/simulate', title: 'Policy simulation' },
] as const;

export function layout(options: { title: string; caller?: ApiKey; active?: string; body: Html }): Html {
  const { title, caller, active, body } = options;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · RevOps dashboard</title>
<link rel="stylesheet" href="/dashboard/assets/dashboard.css">
<script src="/dashboard/assets/chart.umd.min.js" defer></script>
<script src="/dashboard/assets/dashboard.js" defer></script>
</head>
<body>
<header>
  <strong>RevOps dashboard</strong>
  ${caller
    ? html`<nav>${pages.map((page) => html`<a href="${page.path}"${page.path === active ? html` aria-current="page"` : ''}>${page.title}</a>`)}</nav>
  <form method="post" action="/dashboard/sign-out" class="sign-out"><span>${caller.actorId} (${caller.role})</span> <button type="submit">Sign out</button></form>`
    : ''}
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}

export interface Column<Row> {
  key: string;
  label: string;
  value: (row: Row) => unknown;
  /** How the cell shows the value; the raw value stays in `data-value`. */
  show?: (row: Row) => Html | string;
}

/** A table whose cells carry their column key and raw value, so a reader (or a test) need not parse the display. */
export function dataTable<Row>(id: string, caption: string, columns: ReadonlyArray<Column<Row>>, rows: readonly Row[]): Html {
  return html`<table id="${id}" class="data">
<caption>${caption}</caption>
<thead><tr>${columns.map((column) => html`<th scope="col" data-col="${column.key}">${column.label}</th>`)}</tr></thead>
<tbody>${
    rows.length === 0
      ? html`<tr class="empty"><td colspan="${columns.length}">Nothing in this range.</td></tr>`
      : rows.map(
          (row) =>
            html`<tr>${columns.map((column) => {
              const value = column.value(row);
              return html`<td data-col="${column.key}" data-value="${value === null || value === undefined ? '' : String(value)}">${column.show ? column.show(row) : display(value)}</td>`;
            })}</tr>`,
        )
  }</tbody>
</table>`;
}

export interface ChartSpec {
  type: 'bar' | 'line' | 'timeline';
  labels: ReadonlyArray<string>;
  datasets: ReadonlyArray<{ label: string; data: ReadonlyArray<number | null | { x: number; y: string; status?: string }>; kind?: 'line' | 'bar' }>;
  /** Axis titles. */
  x?: string;
  y?: string;
  /** Shares (0..1) shown as percentages. */
  percent?: boolean;
  horizontal?: boolean;
}

export function chart(id: string, description: string, spec: ChartSpec, height = 280): Html {
  return html`<figure class="chart"><div class="canvas-box" data-height="${height}"><canvas id="${id}" role="img" aria-label="${description}" data-chart="${JSON.stringify(spec)}"></canvas></div><figcaption>${description}</figcaption></figure>`;
}

export function display(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 2 });
  return String(value);
}

export const percent = (share: number | null | undefined) => (share === null || share === undefined ? '—' : `${(share * 100).toFixed(1)} %`);

export function kpis(items: ReadonlyArray<{ id: string; label: string; value: number | null; show: string }>): Html {
  return html`<dl class="kpis">${items.map((item) => html`<div><dt>${item.label}</dt><dd id="${item.id}" data-value="${item.value === null ? '' : String(item.value)}">${item.show}</dd></div>`)}</dl>`;
}

/** The period filter every report page has, plus its own fields. */
export function filterForm(action: string, fields: ReadonlyArray<{ name: string; label: string; value: string; type?: string; options?: ReadonlyArray<string> }>): Html {
  return html`<form method="get" action="${action}" class="filters">${fields.map((field) =>
    field.options
      ? html`<label>${field.label} <select name="${field.name}">${field.options.map((option) => html`<option value="${option}"${option === field.value ? html` selected` : ''}>${option || 'any'}</option>`)}</select></label>`
      : html`<label>${field.label} <input name="${field.name}" type="${field.type ?? 'text'}" value="${field.value}"${field.type === 'number' ? html` step="any"` : ''}></label>`,
  )} <button type="submit">Apply</button></form>`;
}

export function pager(basePath: string, params: URLSearchParams, page: number, hasNext: boolean): Html {
  const link = (target: number) => {
    const next = new URLSearchParams(params);
    next.set('page', String(target));
    return `${basePath}?${next.toString()}`;
  };
  return html`<nav class="pager" aria-label="pages">${page > 1 ? html`<a rel="prev" href="${link(page - 1)}">← previous</a>` : ''} <span>page ${page}</span> ${hasNext ? html`<a rel="next" href="${link(page + 1)}">next →</a>` : ''}</nav>`;
}

export function errorPage(title: string, message: string, caller?: ApiKey): Html {
  return layout({ title, caller, body: html`<p class="error" role="alert">${message}</p>` });
}
