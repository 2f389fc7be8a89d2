/** Options of {@link createTokenBucket}. */
export interface TokenBucketOptions {
  /** Refill rate, tokens per second. */
  perSecond: number;
  /** Largest burst (bucket size); defaults to `perSecond`, at least 1. */
  burst?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** A token bucket: `take()` resolves when a token is available, in call order. */
export interface TokenBucket {
  take(): Promise<void>;
}

/**
 * A token bucket shared by concurrent callers, so at most `burst + perSecond × t` calls start in any
 * `t` seconds: throttles outgoing mail so a provider is not flooded by a bulk invite.
 *
 * @example
 * ```ts
 * const bucket = createTokenBucket({ perSecond: 10 });
 * for (const email of emails) { await bucket.take(); await send(email); }
 * ```
 */
export function createTokenBucket(options: TokenBucketOptions): TokenBucket {
  const rate = options.perSecond / 1000;
  const capacity = Math.max(1, options.burst ?? Math.floor(options.perSecond));
  const now = options.now ?? Date.now;
  let tokens = capacity;
  let last = now();
  // Callers queue on one chain so tokens are handed out in order and never double-spent.
  let chain: Promise<void> = Promise.resolve();

  const refill = () => {
    const t = now();
    tokens = Math.min(capacity, tokens + (t - last) * rate);
    last = t;
  };

  const takeOne = async () => {
    refill();
    while (tokens < 1) {
      await new Promise((resolve) => setTimeout(resolve, Math.ceil((1 - tokens) / rate)));
      refill();
    }
    tokens -= 1;
  };

  return {
    take() {
      const turn = chain.then(takeOne);
      chain = turn;
      return turn;
    },
  };
}
