import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from '@hono/zod-openapi';
import type { Database } from '../db/client.js';
import { createQueueSchema, createRepSchema, insertQueue, insertRep, UnknownMembersError } from './reps.js';

/**
 * The team a first run starts with: reps (with their managers) and routing queues, in the same shapes as
 * POST /reps and POST /queues, so a file the API would refuse is refused here too. Without it the default
 * policy routes every lead to a queue `inbound` and every deal to `customer-success` that do not exist.
 */
export const teamFileSchema = z
  .object({
    reps: z.array(createRepSchema).max(1000),
    queues: z.array(createQueueSchema).max(200),
  })
  .strict();

export type TeamFile = z.infer<typeof teamFileSchema>;

export const defaultTeamFile = fileURLToPath(new URL('../policies/team.json', import.meta.url));

/** TEAM_FILE: a path, `none` to start with no team, unset for policies/team.json. */
export function teamFileSetting(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env.TEAM_FILE?.trim();
  if (value === 'none') return undefined;
  return value ? resolve(value) : defaultTeamFile;
}

/** A team file that cannot be loaded as written; retrying would not change it, so the start stops. */
export class TeamFileError extends Error {
  constructor(file: string, problem: string) {
    super(`team file ${file}: ${problem}`);
    this.name = 'TeamFileError';
  }
}

export interface TeamLoadResult {
  repsAdded: string[];
  queuesAdded: string[];
  /** Already there, so left exactly as they are (ops may have changed them since). */
  repsKept: string[];
  queuesKept: string[];
}

export async function readTeamFile(file: string): Promise<TeamFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new TeamFileError(file, (error as Error).message);
  }
  const parsed = teamFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new TeamFileError(file, parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; '));
  }
  return parsed.data;
}

/**
 * Adds the reps and queues the database does not have yet, in one transaction; existing ones are never
 * touched, so running it at every start is safe and keeps whatever ops changed through the API.
 */
export async function loadTeam(db: Database, team: TeamFile, file = 'team file'): Promise<TeamLoadResult> {
  const result: TeamLoadResult = { repsAdded: [], queuesAdded: [], repsKept: [], queuesKept: [] };
  try {
    await db.transaction(async (tx) => {
      for (const rep of team.reps) (await insertRep(tx, rep) ? result.repsAdded : result.repsKept).push(rep.repId);
      for (const queue of team.queues) (await insertQueue(tx, queue) ? result.queuesAdded : result.queuesKept).push(queue.queueId);
    });
  } catch (error) {
    if (error instanceof UnknownMembersError) throw new TeamFileError(file, `a queue names reps neither the file nor the database has: ${error.unknown.join(', ')}`);
    throw error;
  }
  return result;
}

export async function loadTeamFile(db: Database, file: string): Promise<TeamLoadResult> {
  return loadTeam(db, await readTeamFile(file), file);
}

export function describeTeamLoad(file: string, result: TeamLoadResult): string {
  if (result.repsAdded.length + result.queuesAdded.length === 0) return `${file}: nothing new (${result.repsKept.length} reps and ${result.queuesKept.length} queues already there)`;
  return `${file}: added ${result.repsAdded.length} reps, ${result.queuesAdded.length} queues (${result.queuesAdded.join(', ') || 'none'})`;
}
