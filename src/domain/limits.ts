// What one request may ask of the server: explicit, configurable (`limits` in the config file), and
// answered with a 4xx naming the limit when exceeded.

export interface Limits {
  /** largest request body, bytes (413 above) */
  bodyBytes: number;
  /** deepest nesting of objects and arrays in a body */
  jsonDepth: number;
  /** longest string in a body (key or value), characters */
  stringLength: number;
  /** most extensions on one service, state or task write */
  extensionsPerElement: number;
  /** largest `limit` a list accepts */
  listLimit: number;
}

export const DEFAULT_LIMITS: Limits = {
  bodyBytes: 1024 * 1024,
  jsonDepth: 32,
  stringLength: 64 * 1024,
  extensionsPerElement: 100,
  listLimit: 10_000,
};
