import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { sharedWorkflowModules } from '../../worker/create-worker.js';
import { workflowBundle } from '../support/temporal.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The project's own modules in the bundle (webpack names each `./<path>` in a banner comment). */
function projectModules(code: string): string[] {
  return [...new Set([...code.matchAll(/!\*{3} (\.\/(?:domain|workflows)\/[^ ]+\.ts) \*{3}!/g)].map((match) => match[1]!))].sort();
}

/** The modules the bundle's preload function requires, as `./<path>`. */
function preloaded(code: string): string[] {
  const body = code.slice(code.indexOf('exports.preloadModules = function preloadModules()'), code.indexOf('exports.importWorkflows'));
  return [...body.matchAll(/\/\*! (\.\/[^ ]+\.ts) \*\/ "/g)].map((match) => match[1]!).sort();
}

describe('the workflow bundle', () => {
  test('shares every domain module the workflows import, and the stateless workflow modules listed, and nothing more', async () => {
    const { code } = await workflowBundle();
    const inBundle = projectModules(code);
    const shared = sharedWorkflowModules.map((path) => `./${relative(root, path)}`).sort();
    assert.deepEqual(preloaded(code), shared, 'the bundle preloads exactly the shared list');
    for (const module of shared) assert.ok(inBundle.includes(module), `${module} is shared but no workflow imports it`);
    const unsharedDomain = inBundle.filter((module) => module.startsWith('./domain/') && !shared.includes(module));
    assert.deepEqual(unsharedDomain, [], 'a domain module the workflows import is evaluated per workflow: add it to sharedWorkflowModules if it keeps no state');
    for (const workflowModule of ['./workflows/lead-workflow.ts', './workflows/deal-workflow.ts', './workflows/index.ts']) {
      assert.ok(inBundle.includes(workflowModule) && !shared.includes(workflowModule), `${workflowModule} stays per workflow`);
    }
  });
});
