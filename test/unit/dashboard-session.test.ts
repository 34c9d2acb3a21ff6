import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sessionSealer } from '../../api/dashboard/session.js';

describe('dashboard session cookie', () => {
  const now = Date.parse('2026-12-06T09:00:00Z');
  const session = { token: 'token-manager', expiresAt: now + 60_000 };

  test('a sealed session opens with the same secret, in another process too, and hides the token', () => {
    const cookie = sessionSealer('s3cret').seal(session);
    assert.ok(!cookie.includes('token-manager'));
    assert.match(cookie, /^[A-Za-z0-9_-]+$/, 'a cookie value needs no quoting');
    assert.deepEqual(sessionSealer('s3cret').unseal(cookie, now), session);
  });

  test('another secret, a changed byte, an expired session or garbage open nothing', () => {
    const sealer = sessionSealer('s3cret');
    const cookie = sealer.seal(session);
    assert.equal(sessionSealer('other').unseal(cookie, now), undefined);
    const flipped = cookie.slice(0, 30) + (cookie[30] === 'A' ? 'B' : 'A') + cookie.slice(31);
    assert.equal(sealer.unseal(flipped, now), undefined);
    assert.equal(sealer.unseal(cookie, session.expiresAt), undefined);
    assert.equal(sealer.unseal('not a cookie', now), undefined);
    assert.equal(sessionSealer().unseal(sessionSealer().seal(session), now), undefined, 'without a secret each sealer has its own random key');
  });
});
