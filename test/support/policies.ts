import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolvePolicy } from '../../domain/policy-source.js';
import type { Policy, PolicyInput } from '../../domain/policy.js';
import { defaultPolicyFile } from '../../service.config.js';

export function defaultPolicyDocument(): PolicyInput {
  return JSON.parse(readFileSync(defaultPolicyFile, 'utf8')) as PolicyInput;
}

export function defaultPolicy(today = new Date()): Policy {
  return resolvePolicy(defaultPolicyDocument(), today);
}

const allDay = [{ start: '00:00', end: '24:00' }];

/**
 * The default rules on a calendar open around the clock: timer tests then do not depend on the weekday
 * or hour the test happens to run at. Business-hour behaviour has tests of its own.
 */
export function alwaysOpenPolicy(version = 'test-always-open'): Policy {
  const document = defaultPolicyDocument();
  return resolvePolicy(
    {
      ...document,
      version,
      calendars: {
        'always-open': {
          id: 'always-open',
          timeZone: 'UTC',
          workingHours: { mon: allDay, tue: allDay, wed: allDay, thu: allDay, fri: allDay, sat: allDay, sun: allDay },
        },
      },
      defaultCalendarId: 'always-open',
    },
    new Date(),
  );
}

export const secondsScalePolicyFile = fileURLToPath(new URL('../../policies/seconds-scale.json', import.meta.url));

/** The shipped demo policy whose deadlines are seconds: whole lifecycles run on a real dev server in moments. */
export function secondsScalePolicy(): Policy {
  return resolvePolicy(JSON.parse(readFileSync(secondsScalePolicyFile, 'utf8')), new Date());
}
