// Path ids. Service ids are 64-bit and kept as bigint end to end (a JS number would round them
// above 2^53); state and task ids are 32-bit and fit a number.
import { invalid } from './errors.js';
import { INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN } from './fields.js';

const DECIMAL_INTEGER = /^-?\d{1,25}$/;

export function parseServiceId(text: string): bigint {
  if (DECIMAL_INTEGER.test(text)) {
    const id = BigInt(text);
    if (id >= INT64_MIN && id <= INT64_MAX) return id;
  }
  throw invalid(`service_id must be a 64-bit decimal integer, got ${JSON.stringify(text)}`);
}

export function parseElementId(field: 'state_id' | 'task_id', text: string): number {
  if (DECIMAL_INTEGER.test(text)) {
    const id = Number(text);
    if (id >= INT32_MIN && id <= INT32_MAX) return id;
  }
  throw invalid(`${field} must be a 32-bit decimal integer, got ${JSON.stringify(text)}`);
}
