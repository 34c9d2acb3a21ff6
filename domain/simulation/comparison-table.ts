import type { SideSummary } from './simulate.js';

/** The side-by-side comparison as sections of labelled figures: one shape for the CLI's tables and the dashboard's. */

export interface ComparisonRow {
  label: string;
  recorded: number;
  simulated: number;
}

export interface ComparisonSection {
  title: string;
  rows: ComparisonRow[];
}

function keyed<T>(recorded: readonly T[], simulated: readonly T[], key: (row: T) => string, value: (row: T) => number): ComparisonRow[] {
  const labels = [...new Set([...recorded, ...simulated].map(key))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const of = (rows: readonly T[], label: string) => {
    const row = rows.find((candidate) => key(candidate) === label);
    return row ? value(row) : 0;
  };
  return labels.map((label) => ({ label, recorded: of(recorded, label), simulated: of(simulated, label) }));
}

export function comparisonSections({ recorded, simulated }: { recorded: SideSummary; simulated: SideSummary }): ComparisonSection[] {
  const tiers = recorded.deadlinesByTier.map((row, index) => ({ recorded: row, simulated: simulated.deadlinesByTier[index]! }));
  return [
    {
      title: 'Leads by intake band',
      rows: (['cold', 'mql', 'hot'] as const).map((band) => ({ label: band, recorded: recorded.mqlByBand[band], simulated: simulated.mqlByBand[band] })),
    },
    {
      title: 'Speed-to-lead deadlines by tier',
      rows: tiers.flatMap(({ recorded: r, simulated: s }) => [
        { label: `Tier ${r.tier} met on time`, recorded: r.metOnTime, simulated: s.metOnTime },
        { label: `Tier ${r.tier} met late`, recorded: r.metLate, simulated: s.metLate },
        { label: `Tier ${r.tier} breached, never met`, recorded: r.breachedUnmet, simulated: s.breachedUnmet },
        { label: `Tier ${r.tier} ended before due`, recorded: r.endedBeforeDue, simulated: s.endedBeforeDue },
        { label: `Tier ${r.tier} still running`, recorded: r.open, simulated: s.open },
      ]),
    },
    { title: 'Escalations by level', rows: keyed(recorded.escalationsByLevel, simulated.escalationsByLevel, (row) => `level ${row.level}`, (row) => row.count) },
    { title: 'Returns to nurture by reason', rows: keyed(recorded.nurtureByReason, simulated.nurtureByReason, (row) => row.reason, (row) => row.count) },
    {
      title: 'Load per queue (leads; rep unknown where a rotation would pick)',
      rows: [
        ...keyed(recorded.loadByQueue, simulated.loadByQueue, (row) => row.queueId, (row) => row.leads),
        ...keyed(recorded.loadByQueue, simulated.loadByQueue, (row) => `${row.queueId}: rep unknown`, (row) => row.repUnknown).filter((row) => row.simulated > 0 || row.recorded > 0),
      ],
    },
    { title: 'Load per rep (leads, where the owner is known)', rows: keyed(recorded.loadByRep, simulated.loadByRep, (row) => row.repId, (row) => row.leads) },
    {
      title: 'Deal milestones breached',
      rows: keyed(recorded.dealMilestones, simulated.dealMilestones, (row) => row.kind, (row) => row.breached).map((row) => {
        const total = recorded.dealMilestones.find((m) => m.kind === row.label)?.milestones ?? simulated.dealMilestones.find((m) => m.kind === row.label)?.milestones ?? 0;
        return { ...row, label: `${row.label} (of ${total})` };
      }),
    },
  ];
}

const signed = (value: number) => (value > 0 ? `+${value}` : String(value));

/** Plain text rows for a terminal: a header, then each section's title and figures. */
export function comparisonRows(summary: { recorded: SideSummary; simulated: SideSummary }): string[][] {
  const rows: string[][] = [['', 'recorded', 'candidate', 'change']];
  for (const section of comparisonSections(summary)) {
    rows.push([section.title, '', '', '']);
    if (section.rows.length === 0) rows.push(['  (none)', '', '', '']);
    for (const row of section.rows) rows.push([`  ${row.label}`, String(row.recorded), String(row.simulated), row.simulated === row.recorded ? '' : signed(row.simulated - row.recorded)]);
  }
  return rows;
}
