// JSON text <-> values without losing 64-bit integers. JavaScript numbers are exact only up to 2^53,
// so integers beyond that are read as bigint (and written back as plain digits). The fast path is
// the built-in parser; only text that holds a run of 16+ digits takes the lossless one.
import { parse as losslessParse, stringify as losslessStringify, isSafeNumber } from 'lossless-json';
import secureJson from 'secure-json-parse';
import { invalid } from './errors.js';

const LONG_DIGIT_RUN = /\d{16}/;
const INTEGER_TEXT = /^-?\d+$/;

function parseNumberExactly(text: string): number | bigint {
  if (INTEGER_TEXT.test(text) && !isSafeNumber(text)) return BigInt(text);
  return Number(text);
}

/**
 * Parses untrusted JSON. Rejects `__proto__` and `constructor.prototype` keys (prototype pollution)
 * with a SyntaxError, like Fastify's own parser does.
 */
export function parseJsonText(text: string): unknown {
  let value: unknown;
  if (!LONG_DIGIT_RUN.test(text)) {
    value = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } else {
    value = losslessParse(text, null, parseNumberExactly);
    checkUnsafeKeys(value);
  }
  // a number beyond the double range reads as ±Infinity and would be stored as null: refused (only
  // text with a 3-digit exponent or a 300-digit run can hold one, so most bodies skip the walk)
  if (HUGE_NUMBER.test(text)) {
    const path = nonFinitePath(value, '');
    if (path !== undefined) throw invalid(`the number at ${path || 'the top level'} is too large to be represented (beyond ±1.8e308)`);
  }
  return value;
}

const HUGE_NUMBER = /[eE]\+?\d{3}|\d{300}/;

function nonFinitePath(value: unknown, path: string): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = nonFinitePath(item, Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The prototype-pollution rule, the same for every way a value comes in (a body, or an extension
 * named in the path with its value as the body): no `__proto__` key, no `constructor` holding `prototype`.
 */
export function checkUnsafeKeys(value: unknown): void {
  if (value !== null && typeof value === 'object') secureJson.scan(value as Record<string, unknown>, { protoAction: 'error', constructorAction: 'error' });
}

export interface JsonLimits {
  /** deepest nesting of objects and arrays */
  maxDepth: number;
  /** longest string (key or value), in UTF-16 code units */
  maxStringLength: number;
}

/**
 * Checks nesting depth and string lengths on the text, in one pass and before parsing, so that a
 * hostile body never reaches a recursive parser. Malformed text passes through to the parser, which
 * reports it.
 */
export function checkJsonLimits(text: string, limits: JsonLimits): string | undefined {
  let depth = 0;
  let inString = false;
  let stringStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) {
        // backslash: skip the escaped character; \u0000 is refused (no store keeps NUL in text)
        if (text.startsWith('u0000', i + 1)) return 'a string contains the NUL character (\\u0000)';
        i++;
      } else if (c === 0x22) {
        inString = false;
        if (i - stringStart > limits.maxStringLength) return `a string is longer than ${limits.maxStringLength} characters`;
      }
    } else if (c === 0x22) {
      inString = true;
      stringStart = i + 1;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limits.maxDepth) return `the JSON is nested deeper than ${limits.maxDepth} levels`;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  if (inString && text.length - stringStart > limits.maxStringLength) return `a string is longer than ${limits.maxStringLength} characters`;
  return undefined;
}

/** Parses JSON text that this process wrote itself (no pollution scan needed). */
export function parseStoredJson(text: string): unknown {
  return LONG_DIGIT_RUN.test(text) ? losslessParse(text, null, parseNumberExactly) : JSON.parse(text);
}

export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (err instanceof TypeError && containsBigInt(value)) return losslessStringify(value) as string;
    throw err;
  }
}

export function containsBigInt(value: unknown): boolean {
  if (typeof value === 'bigint') return true;
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(containsBigInt);
  for (const key in value) {
    if (containsBigInt((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}
