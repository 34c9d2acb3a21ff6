import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { returnsFromNurture, type BandedScore } from '../../domain/scoring.js';

const at = (total: number, band: BandedScore['band']): BandedScore => ({ total, band });

describe('returnsFromNurture', () => {
  test('positive-engagement: any rise inside the MQL band returns the lead; no rise, or a cold score, does not', () => {
    assert.equal(returnsFromNurture('positive-engagement', at(55, 'mql'), at(60, 'mql')), true);
    assert.equal(returnsFromNurture('positive-engagement', at(55, 'mql'), at(55, 'mql')), false);
    assert.equal(returnsFromNurture('positive-engagement', at(55, 'mql'), at(50, 'mql')), false);
    assert.equal(returnsFromNurture('positive-engagement', at(30, 'cold'), at(35, 'cold')), false);
    assert.equal(returnsFromNurture('positive-engagement', at(35, 'cold'), at(40, 'mql')), true);
  });

  test('a snapshot without the rule behaves as positive-engagement', () => {
    assert.equal(returnsFromNurture(undefined, at(55, 'mql'), at(60, 'mql')), true);
  });

  test('score-crosses-threshold: only a crossing from cold returns the lead', () => {
    assert.equal(returnsFromNurture('score-crosses-threshold', at(55, 'mql'), at(60, 'mql')), false);
    assert.equal(returnsFromNurture('score-crosses-threshold', at(39, 'cold'), at(40, 'mql')), true);
    assert.equal(returnsFromNurture('score-crosses-threshold', at(39, 'cold'), at(75, 'hot')), true);
  });
});
