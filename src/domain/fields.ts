// One reader per field kind of the wire format. Each takes the field name (for the error message)
// and the raw JSON value, and returns the normalized value or throws a Validation error.
import { invalid } from './errors.js';
import { stringifyJson } from './json.js';

export type LongOrString = number | bigint | string;

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const MAX_STRING_ID_LENGTH = 256;

const DECIMAL_INTEGER = /^-?\d+$/;

/** A value from a request, echoed in an error message: JSON (bigints exact), cut at 80 characters. */
export function showValue(value: unknown): string {
  const text = value === undefined ? 'nothing' : stringifyJson(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** Integer fields: a JSON integer or a string of decimal digits, within the signed 32-bit range. */
export function readInt32(field: string, value: unknown): number {
  let n: number | undefined;
  if (typeof value === 'number' && Number.isInteger(value)) n = value;
  else if (typeof value === 'string' && DECIMAL_INTEGER.test(value)) n = Number(value);
  if (n === undefined || n < INT32_MIN || n > INT32_MAX) {
    throw invalid(`${field} must be a 32-bit integer or a string of decimal digits, got ${describe(value)}`);
  }
  return n;
}

export function readNonNegativeInt32(field: string, value: unknown): number {
  const n = readInt32(field, value);
  if (n < 0) throw invalid(`${field} must not be negative, got ${n}`);
  return n;
}

/**
 * "long or string" fields (business-attribute typed): a JSON integer within the signed 64-bit range
 * (a value's DB id) or a string (its name). Stored as given: a number stays a number.
 */
export function readLongOrString(field: string, value: unknown): LongOrString {
  if (typeof value === 'string') {
    if (value.length === 0) throw invalid(`${field} must not be an empty string`);
    return value;
  }
  if (typeof value === 'number' && Number.isInteger(value)) {
    if (Number.isSafeInteger(value)) return value;
    const big = BigInt(value);
    if (big >= INT64_MIN && big <= INT64_MAX) return big;
  }
  if (typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX) return value;
  throw invalid(`${field} must be a 64-bit integer or a string, got ${describe(value)}`);
}

/** String ids (customer_id, contact_key, session_id, interaction_id): a string, or a number taken as its digits. */
export function readStringId(field: string, value: unknown): string {
  let s: string | undefined;
  if (typeof value === 'string') s = value;
  else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint') s = String(value);
  if (s === undefined || s.length === 0 || s.length > MAX_STRING_ID_LENGTH) {
    throw invalid(`${field} must be a non-empty string of at most ${MAX_STRING_ID_LENGTH} characters, got ${describe(value)}`);
  }
  return s;
}

export function readText(field: string, value: unknown): string {
  if (typeof value !== 'string') throw invalid(`${field} must be a string, got ${describe(value)}`);
  return value;
}

// ISO 8601 date-time with a mandatory offset or Z; fractions beyond milliseconds are truncated.
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)$/;

/** Parses an ISO 8601 date-time with an offset; returns epoch milliseconds (UTC). */
export function readTimestamp(field: string, value: unknown): number {
  const m = typeof value === 'string' ? ISO_DATE_TIME.exec(value) : null;
  if (m) {
    const [, y, mo, d, h, mi, s = '00', frac = '', offset] = m;
    const ms = Number((frac + '000').slice(0, 3));
    const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
    const check = new Date(local);
    const fieldsValid =
      check.getUTCFullYear() === Number(y) &&
      check.getUTCMonth() === Number(mo) - 1 &&
      check.getUTCDate() === Number(d) &&
      check.getUTCHours() === Number(h) &&
      check.getUTCMinutes() === Number(mi) &&
      check.getUTCSeconds() === Number(s);
    if (fieldsValid) {
      let offsetMinutes = 0;
      if (offset !== 'Z' && offset !== 'z') {
        const sign = offset[0] === '-' ? -1 : 1;
        const digits = offset.slice(1).replace(':', '');
        const oh = Number(digits.slice(0, 2));
        const om = Number(digits.slice(2) || '0');
        if (oh <= 23 && om <= 59) offsetMinutes = sign * (oh * 60 + om);
        else offsetMinutes = NaN;
      }
      const epoch = local - offsetMinutes * 60_000;
      if (Number.isFinite(epoch) && Math.abs(epoch) <= 8.64e15) return epoch;
    }
  }
  throw invalid(`${field} must be an ISO 8601 date-time with a time zone (e.g. 2024-03-01T10:00:00.000Z), got ${describe(value)}`);
}

/** The one output format for time: UTC, millisecond precision. */
export function formatTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** Query booleans: true/false in any case; anything else is an error. */
export function readQueryBoolean(field: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw invalid(`${field} must be true or false, got ${describe(value)}`);
}

/** limit / offset: non-negative decimal integers. */
export function readQueryCount(field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && /^\d+$/.test(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
  }
  throw invalid(`${field} must be a non-negative integer, got ${describe(value)}`);
}

/** Comma lists that may also be repeated keys (`a=X,Y&a=Z`); empty items are dropped. */
export function readQueryList(value: unknown): string[] {
  if (value === undefined) return [];
  const parts = Array.isArray(value) ? value : [value];
  return parts
    .flatMap((p) => String(p).split(','))
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/** The text form of a "long or string" value, used for filtering by type lists. */
export function typeKey(value: LongOrString | undefined): string | null {
  return value === undefined ? null : String(value);
}
