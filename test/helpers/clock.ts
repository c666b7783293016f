// A clock a test moves by hand: the app and its stores read business time from it, so expiry,
// auto-complete and retention are tested at exact boundaries without sleeping.
export interface ManualClock {
  now: () => number;
  advance: (ms: number) => void;
}

export function manualClock(start = Date.now()): ManualClock {
  let current = start;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
  };
}
