import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { workflowCacheSize } from '../../service.config.js';

const MiB = 1024 * 1024;

describe('worker cache size (WORKER_MAX_CACHED_WORKFLOWS)', () => {
  test('fits the heap limit at 400 KiB per cached workflow, after 200 MiB for the worker itself', () => {
    assert.equal(workflowCacheSize({}, 4144 * MiB), Math.floor((3944 * 1024) / 400));
    assert.equal(workflowCacheSize({}, 1224 * MiB), 2621);
    assert.equal(workflowCacheSize({}, 100 * MiB), 10, 'never fewer than ten');
  });

  test('a given size wins; anything but a whole number of at least 2 is refused by name', () => {
    assert.equal(workflowCacheSize({ WORKER_MAX_CACHED_WORKFLOWS: '500' }, 4144 * MiB), 500);
    for (const bad of ['1', '2.5', 'many', '-4']) {
      assert.throws(() => workflowCacheSize({ WORKER_MAX_CACHED_WORKFLOWS: bad }), /WORKER_MAX_CACHED_WORKFLOWS/);
    }
  });
});
