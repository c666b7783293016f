// JSON text <-> values without losing 64-bit integers. JavaScript numbers are exact only up to 2^53,
// so integers beyond that are read as bigint (and written back as plain digits). The fast path is
// the built-in parser; only text that holds a run of 16+ digits takes the lossless one.
import { parse as losslessParse, stringify as losslessStringify, isSafeNumber } from 'lossless-json';
import secureJson from 'secure-json-parse';

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
  if (!LONG_DIGIT_RUN.test(text)) {
    return secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  }
  const value = losslessParse(text, null, parseNumberExactly);
  if (value !== null && typeof value === 'object') secureJson.scan(value as Record<string, unknown>, { protoAction: 'error', constructorAction: 'error' });
  return value;
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
