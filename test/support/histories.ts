/**
 * Where the histories of the current workflow code are recorded (scripts/record-histories.ts) and replayed from
 * (test/replay/, the benchmark's replay measurement). Existing files are never overwritten: after a deliberate,
 * patched() workflow change, point this at a new folder named after the patch and record again.
 */
export const CURRENT_HISTORY_FOLDER = new URL('../histories/engine-2027-01/', import.meta.url);
