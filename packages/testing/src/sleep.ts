// The kits' own timer: core's internal `sleep` is not public, and a one-liner is cheaper than widening core's API.
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
