import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_STICKY_QUEUE_TIMEOUT_MS, temporalSettings } from '../../temporal.config.js';

describe('temporalSettings: the sticky queue timeout', () => {
  test("unset, it is the SDK's 10 s", () => {
    assert.equal(temporalSettings({}).stickyQueueTimeoutMs, DEFAULT_STICKY_QUEUE_TIMEOUT_MS);
    assert.equal(DEFAULT_STICKY_QUEUE_TIMEOUT_MS, 10_000);
  });

  test('TEMPORAL_STICKY_TIMEOUT_MS sets it in milliseconds', () => {
    assert.equal(temporalSettings({ TEMPORAL_STICKY_TIMEOUT_MS: '30000' }).stickyQueueTimeoutMs, 30_000);
    assert.equal(temporalSettings({ TEMPORAL_STICKY_TIMEOUT_MS: '1000' }).stickyQueueTimeoutMs, 1_000);
  });

  for (const value of ['30s', '999', '600001', '1500.5', '-1', 'abc']) {
    test(`TEMPORAL_STICKY_TIMEOUT_MS=${value} is refused, naming the variable and the range`, () => {
      assert.throws(() => temporalSettings({ TEMPORAL_STICKY_TIMEOUT_MS: value }), new RegExp(`TEMPORAL_STICKY_TIMEOUT_MS=${value.replace('.', '\\.')} must be a whole number of milliseconds from 1000 to 600000`));
    });
  }
});
