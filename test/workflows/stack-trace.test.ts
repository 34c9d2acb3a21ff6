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
 * cheaper (patches/@temporalio+worker+*.patch): a lead waiting for its next step must still show its clock loop.
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

    const enhanced = await lead.handle.query<EnhancedStackTrace>('__enhanced_stack_trace');
    const locations = enhanced.stacks.flatMap((stack) => stack.locations);
    assert.ok(
      locations.some((location) => location.function_name === 'runClocks' && location.file_path?.endsWith('workflows/lead-workflow.ts')),
      JSON.stringify(enhanced.stacks),
    );
  });
});
