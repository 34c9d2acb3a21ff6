import { z } from '@hono/zod-openapi';
import { EMAIL_PATTERN_SOURCE } from '../domain/data-quality.js';

/**
 * The value types every route's schema is built from: what the API accepts is what Postgres can store and a
 * workflow can act on, and the OpenAPI document states each rule as a JSON Schema keyword (pattern, maxLength,
 * minimum, ...) so a client or a fuzzer reading it finds the same rules the API enforces.
 *
 * Patterns are written once as strings and compiled with the `u` flag: then a character class matches whole
 * code points, so a surrogate pair passes and only a lone surrogate is refused. zod-to-openapi prints a flagged
 * RegExp with its flags appended, so the document's `pattern` is always given explicitly.
 */

// NUL: Postgres text and jsonb refuse it. A lone surrogate: jsonb refuses its escape, and a text column would
// silently store U+FFFD instead.
const UNSTORABLE = '\\u0000\\uD800-\\uDFFF';
// What String.prototype.trim removes (WhiteSpace and LineTerminator in ECMA-262), spelled out because `\s`
// differs between JavaScript and Python.
const TRIMMED = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';

const storable = new RegExp(`^[^${UNSTORABLE}]*$`, 'u');
// The document's patterns name the NUL only: Rust's regex engine, which schemathesis validates patterns with,
// has no surrogate code points and drops a pattern that names them. The surrogate rule is stated in words
// (TEXT_RULE); a generator of valid UTF-8, as schemathesis is, never produces a lone surrogate anyway.
const documentedStorableSource = '^[^\\u0000]*$';
const documentedNonBlankSource = `^[^\\u0000]*[^${TRIMMED}\\u0000][^\\u0000]*$`;
const nonBlank = new RegExp(`[^${TRIMMED}]`, 'u');

/** Length as JSON Schema counts it (code points); zod's `.max` counts UTF-16 units, which differs past U+FFFF. */
export function codePointLength(value: string): number {
  let length = 0;
  for (const _ of value) length += 1;
  return length;
}

/** True when `value` holds a NUL or a lone surrogate: text that cannot be stored as it was sent. */
export function hasUnstorableText(value: string): boolean {
  return !storable.test(value);
}

export const UNSTORABLE_MESSAGE = 'must not contain a NUL character or an unpaired UTF-16 surrogate';
const TEXT_RULE = 'No NUL character and no unpaired UTF-16 surrogate; the length counts characters (code points).';

/**
 * Free text of at most `max` characters (code points), without NUL or lone surrogates. `required`: trimmed,
 * and not blank (the pattern then demands one character that trimming keeps).
 */
export function text(max: number, { required = false, description }: { required?: boolean; description?: string } = {}) {
  const checked = z
    .string()
    .regex(storable, UNSTORABLE_MESSAGE)
    .refine((value) => codePointLength(value) <= max, `must be at most ${max} characters`);
  const schema = required ? checked.refine((value) => nonBlank.test(value), 'must not be empty').trim() : checked;
  return schema.openapi({
    pattern: required ? documentedNonBlankSource : documentedStorableSource,
    maxLength: max,
    ...(required ? { minLength: 1 } : {}),
    description: [description, required ? 'Trimmed; must not be blank.' : undefined, TEXT_RULE].filter(Boolean).join(' '),
  });
}

/** Text that must not be empty or blank; trimmed. */
export const requiredText = (max: number, description?: string) => text(max, { required: true, description });

const identifierSource = '^[A-Za-z0-9._-]{1,100}$';
/** Lead, deal, rep, queue IDs: they become workflow IDs and primary keys. */
export const identifier = z
  .string()
  .regex(new RegExp(identifierSource), 'letters, digits, ".", "_" or "-", 1 to 100 of them')
  .openapi({ pattern: identifierSource, minLength: 1, maxLength: 100 });

/** A path parameter naming a record by its identifier. */
export function idParam(name: string, example: string) {
  return identifier.openapi({ param: { name, in: 'path' }, example });
}

// zod's own e-mail rule (ASCII only, so its length in UTF-16 units and in code points agree), capped at the
// 254 characters a forward path may hold (RFC 5321); the domain's copy, so intake's data-quality check agrees.
const emailSource = EMAIL_PATTERN_SOURCE;
export const email = z
  .string()
  .regex(new RegExp(emailSource), 'an e-mail address such as ana@example.com')
  .max(254)
  .openapi({ pattern: emailSource, maxLength: 254, example: 'ana@example.com' });

export const YEAR_MIN = 2000;
export const YEAR_MAX = 2099;
// A lookahead bounds the year; the rest is zod's own rule, which knows month lengths and leap years.
const yearRange = '(?=20\\d\\d-)';
const withYearRange = (pattern: RegExp) => `^${yearRange}${pattern.source.replace(/^\^/, '')}`;
const instantSource = withYearRange(z.iso.datetime({ offset: true })._zod.pattern!);
const dateSource = withYearRange(z.iso.date()._zod.pattern!);
const yearMessage = `the year must be between ${YEAR_MIN} and ${YEAR_MAX}`;

/**
 * An instant: ISO 8601 date-time with seconds and an offset (Z or ±HH:MM), in years 2000-2099. Postgres has no
 * year 0, and a date far out makes business-time arithmetic walk millions of days.
 */
export const instant = z
  .string()
  .regex(new RegExp(instantSource), `an ISO 8601 date-time with seconds and offset, e.g. 2026-11-23T09:00:00Z; ${yearMessage}`)
  .openapi({ pattern: instantSource, format: 'date-time', example: '2026-11-23T09:00:00Z' });

/** A calendar date (YYYY-MM-DD) in years 2000-2099. */
export const isoDate = z
  .string()
  .regex(new RegExp(dateSource), `an ISO 8601 date, e.g. 2026-11-23; ${yearMessage}`)
  .openapi({ pattern: dateSource, format: 'date', example: '2026-11-23' });

/** One part of a lead's score (fit, behaviour, intent, negative): the score column is an integer. */
export const scoreComponent = z.number().int().min(0).max(1000).openapi({ description: 'A whole number of points, 0 to 1000' });

/** A change to a score component; whole points, like the score it changes. */
export const scoreDelta = z.number().int().min(-1000).max(1000).openapi({ description: 'A whole number of points, -1000 to 1000' });

/**
 * The largest amount accepted: `numeric(18,2)` stores up to 16 integer digits, but the API reads JSON numbers
 * as doubles, exact to the cent only below 2^53 / 100 ≈ 9e13. A trillion per deal is a safe ceiling.
 */
export const MONEY_MAX = 999_999_999_999.99;
/** An amount of money: positive, at most two decimals, at most MONEY_MAX. */
export const money = z
  .number()
  .positive()
  .max(MONEY_MAX)
  // A double read from a two-decimal literal prints back as that literal; one with more decimals does not.
  .refine((amount) => Number(amount.toFixed(2)) === amount, 'at most two decimals (cents)')
  .openapi({ multipleOf: 0.01, maximum: MONEY_MAX, description: 'Positive, at most two decimals, at most 999999999999.99' });

/** A customer health score given at a QBR. */
export const healthScore = z.number().int().min(0).max(100).openapi({ description: 'A whole number, 0 to 100' });

const knownCurrencies = Intl.supportedValuesOf('currency') as [string, ...string[]];
/** An ISO 4217 currency code in capitals, as the runtime's Intl knows them. */
export const currency = z.enum(knownCurrencies, { error: 'an ISO 4217 currency code in capitals, e.g. EUR' }).openapi({ example: 'EUR' });

/** An ISO 3166-1 alpha-2 country code in capitals, as routing rules compare them. */
export const countryCode = z
  .string()
  .regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code in capitals, e.g. PL')
  .openapi({ pattern: '^[A-Z]{2}$', example: 'PL' });

/** Deeper than any document the API takes (a policy is about 8 levels); Postgres and JSON.stringify recurse per level. */
export const MAX_JSON_DEPTH = 32;

export const TOO_DEEP_MESSAGE = `nested more than ${MAX_JSON_DEPTH} levels deep`;

/**
 * The first thing in a JSON value that could not be stored as sent: a string or key holding a NUL or a lone
 * surrogate, or nesting deeper than MAX_JSON_DEPTH (Postgres refuses a deep jsonb value with "stack depth
 * limit exceeded", and JSON.stringify overflows the stack). Its path is named as validation issues name
 * them. Iterative, so a deep body cannot overflow the stack here either.
 */
export function findUnstorable(value: unknown): { path: string; message: string } | undefined {
  const pending: Array<[unknown, string[]]> = [[value, []]];
  const at = (path: string[]) => path.join('.') || '(body)';
  while (pending.length > 0) {
    const [current, path] = pending.pop()!;
    if (typeof current === 'string') {
      if (hasUnstorableText(current)) return { path: at(path), message: UNSTORABLE_MESSAGE };
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (path.length >= MAX_JSON_DEPTH) return { path: at(path), message: TOO_DEEP_MESSAGE };
    if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index -= 1) pending.push([current[index], [...path, String(index)]]);
      continue;
    }
    for (const [key, inner] of Object.entries(current)) {
      if (hasUnstorableText(key)) return { path: at([...path, key]), message: UNSTORABLE_MESSAGE };
      pending.push([inner, [...path, key]]);
    }
  }
  return undefined;
}
