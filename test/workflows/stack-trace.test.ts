import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startLeadHarness, type LeadHarness } from '../support/lead-harness.js';

interface EnhancedStackTrace {
  stacks: Array<{ locations: Array<{ file_path?: string; function_name?: string }> }>;
  sources: Record<string, unknown>;
}

/**
 * The Temporal UI's "Stack Trace" tab asks a running workflow where it waits (the `__stack_trace` and
 * `__enhanced_stack_trace` queries). The worker collects those stacks in a promise hook that patches/ makes
 * cheaper (patches/@temporalio+worker+*.patch): it keeps each promise's call sites and formats them only when
 * asked. A lead waiting for its next step must still show its clock loop, and the promises `Promise.race` makes
 * inside the clock's wait must still be folded into the race (the hook tells them by their formatted frames).
 */
describe('workflow stack traces for the Temporal UI', () => {
  let h: LeadHarness;
  before(async () => {
    h = await startLeadHarness('stack-trace');
  });
  after(async () => {
    await h?.cleanup();
    await h?.stop();
  });

  test('a routed lead waiting for its rep shows its clock loop in lead-workflow.ts, as text and as source locations', async () => {
    const lead = await h.startRoutedLead();

    const text = await lead.handle.query<string>('__stack_trace');
    assert.match(text, /at runClocks \(.*workflows\/lead-workflow\.ts:\d+:\d+\)/, text);
    assert.match(text, /^\s+at untilFiredOr \(.*workflows\/step-engine\.ts:\d+:\d+\)\n\s+at runClocks /m, text);
    const raceInternals = text.split('\n\n').filter((stack) => /^\s+at Promise\.then \(<anonymous>\)\n\s+at (Function|Promise)\.race /.test(stack));
    assert.deepEqual(raceInternals, [], 'the promises Promise.race makes are part of the race, not stacks of their own');

    const enhanced = await lead.handle.query<EnhancedStackTrace>('__enhanced_stack_trace');
    const locations = enhanced.stacks.flatMap((stack) => stack.locations);
    assert.ok(
      locations.some((location) => location.function_name === 'runClocks' && location.file_path?.endsWith('workflows/lead-workflow.ts')),
      JSON.stringify(enhanced.stacks),
    );
  });
});
