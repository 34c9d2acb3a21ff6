import { z } from '@hono/zod-openapi';
import { html } from 'hono/html';
import { comparisonSections, type ComparisonRow } from '../../domain/simulation/comparison-table.js';
import type { PolicyStore } from '../../db/policy-store.js';
import { instant, isoDate } from '../primitives.js';
import { MAX_SAMPLE, runSimulation, SimulationRequestError } from '../simulation.js';
import { dataTable, display, kpis, layout, type Html } from './html.js';
import type { PageContext } from './views.js';

/**
 * Policy backtesting on the dashboard: a published version or a pasted policy document, a window, and the
 * comparison as tables (POST /policies/simulate's engine and answer). The form posts, so a pasted document
 * never lands in a URL.
 */

const TITLE = 'Policy simulation';
const ACTIVE = '/dashboard/simulate';
const DAY_MS = 86_400_000;

const bound = z.union([instant, isoDate], { error: 'a date (2026-11-23) or an ISO date-time with offset, in years 2000-2099' });
const simulateForm = z.object({
  version: z.string().max(200).optional(),
  policy: z.string().max(512 * 1024, 'the pasted policy is longer than 512 KiB').optional(),
  from: bound,
  to: bound,
  sample: z.coerce.number().int('a whole number').min(0).max(MAX_SAMPLE, `at most ${MAX_SAMPLE}`).optional(),
});

export type SimulateFormFields = Record<string, string>;

const instantOf = (value: string) => new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);

function form(fields: SimulateFormFields, now: Date): Html {
  const defaultTo = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS + DAY_MS).toISOString().slice(0, 10);
  const defaultFrom = new Date(Date.parse(defaultTo) - 90 * DAY_MS).toISOString().slice(0, 10);
  return html`<form method="post" action="${ACTIVE}" class="simulate">
<p>Replays the leads received and the deals won in the window against a candidate policy, next to what the audit recorded under the policies they actually ran under. Give a published version, or paste a whole policy document.</p>
<label>Published version <input name="version" value="${fields.version ?? ''}"></label>
<label>or a policy document (JSON) <textarea name="policy" rows="8" cols="80" spellcheck="false">${fields.policy ?? ''}</textarea></label>
<label>From <input name="from" type="date" value="${fields.from ?? defaultFrom}" required></label>
<label>To (exclusive) <input name="to" type="date" value="${fields.to ?? defaultTo}" required></label>
<label>Changed records to list <input name="sample" type="number" min="0" max="${MAX_SAMPLE}" value="${fields.sample ?? '20'}"></label>
<button type="submit">Simulate</button>
</form>`;
}

const page = (ctx: PageContext, status: 200 | 400 | 404, body: Html) => ({ status, body: layout({ title: TITLE, caller: ctx.caller, active: ACTIVE, body }) });
const refused = (ctx: PageContext, status: 400 | 404, fields: SimulateFormFields, problems: string[]) =>
  page(ctx, status, html`${form(fields, ctx.now)}<ul class="error" role="alert">${problems.map((problem) => html`<li>${problem}</li>`)}</ul>`);

const change = (row: ComparisonRow) => row.simulated - row.recorded;

export function simulateFormPage(ctx: PageContext) {
  return page(ctx, 200, form({}, ctx.now));
}

export async function simulatePage(ctx: PageContext, store: Pick<PolicyStore, 'resolve'>, fields: SimulateFormFields) {
  const given = Object.fromEntries(Object.entries(fields).filter(([, value]) => value.trim() !== ''));
  const parsed = simulateForm.safeParse(given);
  if (!parsed.success) return refused(ctx, 400, fields, parsed.error.issues.map((issue) => `${issue.path.join('.') || 'form'}: ${issue.message}`));
  let policy: unknown;
  if (parsed.data.policy !== undefined) {
    try {
      policy = JSON.parse(parsed.data.policy);
    } catch (error) {
      return refused(ctx, 400, fields, [`policy: not JSON: ${(error as Error).message}`]);
    }
  }
  let answer;
  try {
    answer = await runSimulation(ctx.db, store, {
      policy,
      version: parsed.data.version,
      from: instantOf(parsed.data.from),
      to: instantOf(parsed.data.to),
      sample: parsed.data.sample,
      asOf: ctx.now,
    });
  } catch (error) {
    if (error instanceof SimulationRequestError) return refused(ctx, error.status, fields, error.issues?.map((issue) => `${issue.path}: ${issue.message}`) ?? [error.message]);
    throw error;
  }

  const sections = comparisonSections(answer);
  const reproduction = answer.reproduction;
  const body = html`${form(fields, ctx.now)}
<p class="range" data-from="${answer.window.from}" data-to="${answer.window.to}">Candidate <strong>${answer.candidateVersion}</strong> over ${answer.window.from} to ${answer.window.to} (exclusive); timers up to ${answer.asOf}.</p>
${kpis([
  { id: 'kpi-sim-leads', label: 'Leads simulated', value: answer.recorded.leads, show: display(answer.recorded.leads) },
  { id: 'kpi-sim-deals', label: 'Deals simulated', value: answer.recorded.deals, show: display(answer.recorded.deals) },
  { id: 'kpi-sim-changes', label: 'Records that would change', value: answer.changes.count, show: display(answer.changes.count) },
  {
    id: 'kpi-sim-mismatches',
    label: 'Replays under their own policies differing from the audit',
    value: reproduction?.mismatches ?? null,
    show: reproduction ? `${display(reproduction.mismatches)} of ${display(reproduction.records)}` : '—',
  },
])}
${answer.truncated.leads || answer.truncated.deals ? html`<p class="error" role="alert">Only the first ${display(answer.truncated.limit)} leads and deals of the window were simulated; narrow the window.</p>` : ''}
${answer.skipped.leads + answer.skipped.deals > 0 ? html`<p class="error">Skipped ${answer.skipped.leads} leads and ${answer.skipped.deals} deals whose versions are not stored: ${answer.skipped.unknownVersions.join(', ')}.</p>` : ''}
${sections.map((section, index) =>
  dataTable(`sim-${index}`, section.title, [
    { key: 'label', label: '', value: (row: ComparisonRow) => row.label },
    { key: 'recorded', label: 'Recorded', value: (row: ComparisonRow) => row.recorded },
    { key: 'simulated', label: 'Candidate', value: (row: ComparisonRow) => row.simulated },
    { key: 'change', label: 'Change', value: change, show: (row: ComparisonRow) => (change(row) === 0 ? '' : change(row) > 0 ? `+${change(row)}` : String(change(row))) },
  ], section.rows),
)}
<section><h2>Records whose outcome would change (first ${answer.changes.first.length} of ${display(answer.changes.count)})</h2>
<ul id="sim-changes">${answer.changes.first.map(
  (entry) => html`<li data-id="${entry.id}"><a href="/dashboard/${entry.kind === 'lead' ? 'leads' : 'deals'}/${encodeURIComponent(entry.id)}">${entry.kind} ${entry.id}</a>: ${entry.why.join('; ')}</li>`,
)}</ul></section>
<section><h2>What a simulation cannot know</h2><ul>${answer.limits.map((limit) => html`<li>${limit}</li>`)}</ul></section>`;
  return page(ctx, 200, body);
}
