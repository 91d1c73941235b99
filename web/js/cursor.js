// Where the client stands in one room's sequence of diffs. Pure: decides, for each diff,
// whether to apply it, skip it as a duplicate, hold it while a join is in flight, or catch up
// with a new join because frames were lost or history changed.

/** @typedef {import("./protocol.js").Frame} Frame */
/** @typedef {"apply" | "skip" | "hold" | "rejoin"} Verdict */

export class RoomCursor {
  /** @param {string} id */
  constructor(id) {
    this.id = id;
    /** @type {number | null} the last seq applied */
    this.seq = null;
    /** @type {string | null} */
    this.epoch = null;
    this.joined = false;
    this.joining = false;
    /** @type {Frame[]} diffs that arrived while no join was settled */
    this.buffer = [];
  }

  /** @returns {{seq: number, epoch: string} | undefined} what to send as `since` */
  since() {
    return this.seq === null || this.epoch === null ? undefined
      : { seq: this.seq, epoch: this.epoch };
  }

  /** A `room.join` is on its way: hold diffs until its answer. */
  startJoin() {
    this.joining = true;
    this.joined = false;
  }

  /** The join failed or the socket closed: keep seq and epoch for the next `since`. */
  reset() {
    this.joining = false;
    this.joined = false;
    this.buffer = [];
  }

  /**
   * Decide what to do with a diff; "apply" also advances the cursor.
   * @param {Frame} frame
   * @returns {Verdict}
   */
  offer(frame) {
    if (this.joining || !this.joined) {
      this.buffer.push(frame);
      return "hold";
    }
    const seq = frame.seq ?? 0;
    if (frame.epoch !== this.epoch || seq > (this.seq ?? 0) + 1) {
      this.buffer.push(frame);
      this.joined = false;
      return "rejoin";
    }
    if (seq <= (this.seq ?? 0)) return "skip";
    this.seq = seq;
    return "apply";
  }

  /**
   * Take the answer to a join.
   * @param {{epoch: string, seq: number, recovered: boolean, missed?: Frame[]}} joined
   * @returns {{diffs: Frame[], rejoin: boolean}} diffs to apply in order (missed, then those
   *   held meanwhile, without duplicates), and whether a further gap needs another join
   */
  settle(joined) {
    const held = this.buffer;
    this.buffer = [];
    this.joining = false;
    this.joined = true;
    /** @type {Frame[]} */
    const diffs = [];
    this.epoch = joined.epoch;
    if (joined.recovered) {
      for (const frame of joined.missed || []) {
        if (this.seq === null || (frame.seq ?? 0) > this.seq) {
          this.seq = frame.seq ?? 0;
          diffs.push(frame);
        }
      }
      this.seq = Math.max(this.seq ?? 0, joined.seq);
    } else {
      this.seq = joined.seq;
    }
    let rejoin = false;
    for (const frame of held) {
      const verdict = this.offer(frame);
      if (verdict === "apply") diffs.push(frame);
      else if (verdict === "rejoin") rejoin = true;
    }
    return { diffs, rejoin };
  }
}
