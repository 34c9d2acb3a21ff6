/**
 * Lead routing: which queue a lead enters, and which rep of that queue (or of its account) owns it.
 *
 * Workflow code calls this during replay, so it is pure and deterministic: no clock, no I/O, no imports.
 * The caller supplies the instant (`at`) and the queue's rotation state (`lastAssignedRepId`), and
 * persists the returned choice; nothing here remembers anything between calls.
 */

export interface RoutingLead {
  tier: 1 | 2 | 3;
  hot: boolean;
  segment?: string;
  country?: string;
  region?: string;
  /** The product line the lead asked about. */
  product?: string;
  /** Specialist skills the lead needs (a use case, an integration). */
  skills?: string[];
  company: string;
}

/** A criterion left out matches any lead; a criterion that is present must contain the lead's value. */
export interface RoutingRule {
  queueId: string;
  tiers?: Array<1 | 2 | 3>;
  segments?: string[];
  countries?: string[];
  regions?: string[];
  products?: string[];
  /** Matches a lead that needs every one of these skills. */
  skills?: string[];
}

/** ISO instants with an explicit offset; the rep is away from `from` (inclusive) to `to` (exclusive). */
export interface AbsencePeriod {
  from: string;
  to: string;
}

export interface RoutingRep {
  id: string;
  seniority: 'junior' | 'senior';
  active: boolean;
  outOfOffice: AbsencePeriod[];
  openLeads: number;
}

export type RoutingStrategy = 'round-robin' | 'tier-priority';

export interface RoutingQueue {
  id: string;
  strategy: RoutingStrategy;
  /** Order matters: round robin rotates through members in this order. */
  members: RoutingRep[];
  lastAssignedRepId: string | null;
}

export interface OwnerChoice {
  repId: string;
  queueId: string;
  reason: 'account-owner' | 'returning-owner' | 'round-robin' | 'tier-priority';
}

/** The failure type a workflow sees when nobody can take the lead; retrying would not change the answer. */
export const NO_AVAILABLE_REP = 'NoAvailableRep';

export class NoAvailableRepError extends Error {
  readonly queueId: string;
  readonly detail: string;

  constructor(queueId: string, detail: string) {
    super(`No available rep in queue ${queueId}: ${detail}`);
    this.name = 'NoAvailableRepError';
    this.queueId = queueId;
    this.detail = detail;
  }
}

// Segment and country values come from forms and CRMs with inconsistent casing ('PL' vs 'pl');
// a casing difference must not silently send a lead to the fallback queue.
function listContains(allowed: readonly string[], value: string | undefined): boolean {
  if (value === undefined) return false;
  const wanted = value.toLowerCase();
  return allowed.some((candidate) => candidate.toLowerCase() === wanted);
}

function ruleMatches(rule: RoutingRule, lead: RoutingLead): boolean {
  if (rule.tiers !== undefined && !rule.tiers.includes(lead.tier)) return false;
  if (rule.segments !== undefined && !listContains(rule.segments, lead.segment)) return false;
  if (rule.countries !== undefined && !listContains(rule.countries, lead.country)) return false;
  if (rule.regions !== undefined && !listContains(rule.regions, lead.region)) return false;
  if (rule.products !== undefined && !listContains(rule.products, lead.product)) return false;
  if (rule.skills !== undefined && !rule.skills.every((skill) => listContains(lead.skills ?? [], skill))) return false;
  return true;
}

/** First rule (in order) whose every present criterion matches the lead; else `fallbackQueueId`. */
export function chooseQueue(rules: RoutingRule[], fallbackQueueId: string, lead: RoutingLead): string {
  return rules.find((rule) => ruleMatches(rule, lead))?.queueId ?? fallbackQueueId;
}

// A date-time without an offset is read in the worker's local zone, so the same history could route
// differently on two workers; only explicit instants are accepted.
const EXPLICIT_OFFSET = /T.*(Z|[+-]\d{2}(:?\d{2})?)$/i;

function parseInstant(value: string, what: string): number {
  const millis = Date.parse(value);
  if (!EXPLICIT_OFFSET.test(value) || Number.isNaN(millis)) {
    throw new RangeError(`${what} must be an ISO instant with an offset (e.g. 2024-05-01T08:00:00Z), got '${value}'`);
  }
  return millis;
}

function isOutOfOffice(rep: RoutingRep, atMillis: number): boolean {
  return rep.outOfOffice.some((period) => {
    const from = parseInstant(period.from, `outOfOffice.from of rep ${rep.id}`);
    const to = parseInstant(period.to, `outOfOffice.to of rep ${rep.id}`);
    return from <= atMillis && atMillis < to;
  });
}

function instantMillis(at: Date): number {
  const millis = at.getTime();
  if (Number.isNaN(millis)) throw new RangeError('routing instant `at` is an invalid Date');
  return millis;
}

/** Active and not inside any out-of-office period at `at`. */
export function isAvailable(rep: RoutingRep, at: Date): boolean {
  return rep.active && !isOutOfOffice(rep, instantMillis(at));
}

type Unavailability = 'excluded' | 'inactive' | 'out of office';

function unavailability(rep: RoutingRep, at: Date, excluded: ReadonlySet<string>): Unavailability | null {
  if (excluded.has(rep.id)) return 'excluded';
  if (!rep.active) return 'inactive';
  if (!isAvailable(rep, at)) return 'out of office';
  return null;
}

function describeNobodyAvailable(queue: RoutingQueue, at: Date, excluded: ReadonlySet<string>): string {
  if (queue.members.length === 0) return 'the queue has no members';
  const reasons = queue.members.map((rep) => `${rep.id} (${unavailability(rep, at, excluded)})`);
  return `every member is unavailable at ${at.toISOString()}: ${reasons.join(', ')}`;
}

/**
 * Fewest open leads wins; ties rotate through the queue's member order starting right after the
 * last assignee, so the last assignee comes last among its equals and never receives twice in a row
 * while a peer carries the same or a lighter load.
 */
function pickLeastLoadedInRotation(queue: RoutingQueue, pool: readonly RoutingRep[]): RoutingRep {
  const memberIds = queue.members.map((rep) => rep.id);
  // An unknown or null last assignee (new queue, rep removed) starts the rotation at the first member.
  const lastIndex = queue.lastAssignedRepId === null ? -1 : memberIds.indexOf(queue.lastAssignedRepId);
  const distanceAfterLast = (rep: RoutingRep): number => {
    const index = memberIds.indexOf(rep.id);
    return (index - lastIndex - 1 + memberIds.length) % memberIds.length;
  };

  let best: RoutingRep | undefined;
  for (const rep of pool) {
    if (
      best === undefined ||
      rep.openLeads < best.openLeads ||
      (rep.openLeads === best.openLeads && distanceAfterLast(rep) < distanceAfterLast(best))
    ) {
      best = rep;
    }
  }
  if (best === undefined) throw new Error('pickLeastLoadedInRotation needs a non-empty pool');
  return best;
}

/**
 * accountOwner: the rep who already owns a lead of the same company (account-based routing), or null.
 * exclude: rep ids that must not be chosen (e.g. the current owner on reassignment).
 */
export function chooseOwner(input: {
  queue: RoutingQueue;
  lead: RoutingLead;
  at: Date;
  accountOwner: RoutingRep | null;
  /** The rep who owned this lead before it went back to marketing: nurture keeps the relationship with them. */
  returningOwner?: RoutingRep | null;
  exclude?: string[];
}): OwnerChoice {
  const { queue, lead, at, accountOwner } = input;
  const excluded = new Set(input.exclude ?? []);

  // One account, one owner: the buying committee talks to a single rep even across queues.
  if (accountOwner !== null && !excluded.has(accountOwner.id) && isAvailable(accountOwner, at)) {
    return { repId: accountOwner.id, queueId: queue.id, reason: 'account-owner' };
  }
  const returning = input.returningOwner ?? null;
  if (returning !== null && !excluded.has(returning.id) && isAvailable(returning, at)) {
    return { repId: returning.id, queueId: queue.id, reason: 'returning-owner' };
  }

  const candidates = queue.members.filter((rep) => !excluded.has(rep.id) && isAvailable(rep, at));
  if (candidates.length === 0) {
    throw new NoAvailableRepError(queue.id, describeNobodyAvailable(queue, at, excluded));
  }

  if (queue.strategy === 'tier-priority' && (lead.tier === 1 || lead.hot)) {
    const seniors = candidates.filter((rep) => rep.seniority === 'senior');
    // A priority lead waiting for a senior would breach its SLA; a junior now beats a senior later.
    if (seniors.length > 0) {
      return { repId: pickLeastLoadedInRotation(queue, seniors).id, queueId: queue.id, reason: 'tier-priority' };
    }
  }

  return { repId: pickLeastLoadedInRotation(queue, candidates).id, queueId: queue.id, reason: 'round-robin' };
}
