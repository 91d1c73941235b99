// How fast to retry and how fast to send: reconnect backoff with jitter, and a token bucket
// that keeps this client under the server's frame rate.

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential, capped, with jitter so a
 * hall full of phones does not reconnect in the same instant.
 * @param {number} attempt
 * @param {{baseMs: number, maxMs: number}} opts
 * @param {() => number} [random]
 * @returns {number} milliseconds
 */
export function backoffDelay(attempt, { baseMs, maxMs }, random = Math.random) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** A token bucket: a console that re-joins dozens of rooms at once is never told to slow down. */
export class Pacer {
  /**
   * @param {number} perSecond sustained frames per second
   * @param {number} burst frames allowed at once
   * @param {() => number} [now] milliseconds
   */
  constructor(perSecond, burst, now = () => performance.now()) {
    this.perMs = perSecond / 1000;
    this.burst = burst;
    this.now = now;
    this.tokens = burst;
    this.at = now();
  }

  /**
   * Take a token if one is there.
   * @returns {number} 0 when a frame may go now, else milliseconds to wait
   */
  take() {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (t - this.at) * this.perMs);
    this.at = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.tokens) / this.perMs);
  }
}
