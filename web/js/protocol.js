// Protocol v1 (docs/protocol.md): the envelope every WebSocket frame uses, request refs,
// and the promises that wait for a request's `ack` or `error`. No DOM, no socket.

export const VERSION = 1;
export const SUBPROTOCOL = "tablee.v1";
export const TOKEN_PREFIX = "token.";
export const MAX_FRAME_BYTES = 64 * 1024;
export const NOTE_MAX_CHARS = 500;

/** Diff types that carry `room`, `seq` and `epoch` and are applied in order. */
export const ROOM_DIFF_TYPES = new Set(["note.added", "note.edited", "note.deleted", "note.likes"]);

/** Error codes worth retrying later: the request itself was fine. */
export const RETRYABLE_CODES = new Set(["rate_limited", "internal", "disconnected", "timeout"]);

/**
 * @typedef {{v: number, type: string, ref?: string, room?: string, seq?: number,
 *            epoch?: string, payload: Record<string, any>}} Frame
 */

/** An `error` frame from the server, or a request that never got its answer. */
export class RequestError extends Error {
  /**
   * @param {string} code e.g. "invalid", "forbidden", "timeout", "disconnected"
   * @param {string} message
   * @param {any} [details]
   */
  constructor(code, message, details) {
    super(message);
    this.name = "RequestError";
    this.code = code;
    this.details = details;
  }

  /** @returns {boolean} true when sending the same request again may succeed */
  get retryable() {
    return RETRYABLE_CODES.has(this.code);
  }
}

/**
 * A new note id: a UUID v4. `crypto.randomUUID` exists only in secure contexts (https or
 * localhost); a server reached over plain http on a venue's network gets the same from
 * `crypto.getRandomValues`.
 * @returns {string}
 */
export function newId() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)]
    .join("-");
}

/**
 * Encode one client frame.
 * @param {string} type
 * @param {Record<string, any>} [payload]
 * @param {string} [ref]
 * @returns {string}
 */
export function encode(type, payload = {}, ref) {
  /** @type {Record<string, any>} */
  const frame = { v: VERSION, type };
  if (ref !== undefined) frame.ref = ref;
  frame.payload = payload;
  return JSON.stringify(frame);
}

/**
 * Parse one server frame; throws on anything that is not a version-1 envelope.
 * @param {string} data
 * @returns {Frame}
 */
export function parse(data) {
  const frame = JSON.parse(data);
  if (frame === null || typeof frame !== "object" || Array.isArray(frame)) {
    throw new Error("frame is not a JSON object");
  }
  if (frame.v !== VERSION) throw new Error(`unsupported protocol version ${frame.v}`);
  if (typeof frame.type !== "string") throw new Error("frame has no type");
  if (frame.payload === undefined) frame.payload = {};
  return frame;
}

/**
 * Requests in flight, keyed by `ref`; each settles on its answer, a timeout or a disconnect.
 */
export class PendingRequests {
  constructor() {
    this.counter = 0;
    /**
     * @type {Map<string,
     *   {resolve: (f: Frame) => void, reject: (e: Error) => void, timer: number}>}
     */
    this.waiting = new Map();
  }

  /** @returns {string} a fresh ref, short and unique for this page */
  nextRef() {
    this.counter += 1;
    return "c" + this.counter.toString(36);
  }

  /**
   * Wait for the answer to `ref`.
   * @param {string} ref
   * @param {number} timeoutMs
   * @returns {Promise<Frame>} the `ack` (or `room.joined`) frame; rejects with RequestError
   */
  wait(ref, timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(ref);
        reject(new RequestError("timeout", `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(ref, { resolve, reject, timer });
    });
  }

  /**
   * Settle the request a frame answers, if any.
   * @param {Frame} frame
   * @returns {boolean} true when the frame answered a request of ours
   */
  settle(frame) {
    if (frame.ref === undefined) return false;
    const entry = this.waiting.get(frame.ref);
    if (!entry) return false;
    this.waiting.delete(frame.ref);
    clearTimeout(entry.timer);
    if (frame.type === "error") {
      const p = frame.payload;
      entry.reject(new RequestError(p.code || "internal", p.message || "error", p.details));
    } else {
      entry.resolve(frame);
    }
    return true;
  }

  /**
   * Fail every request still waiting (the socket closed).
   * @param {string} reason
   */
  failAll(reason) {
    for (const [ref, entry] of this.waiting) {
      clearTimeout(entry.timer);
      entry.reject(new RequestError("disconnected", reason));
      this.waiting.delete(ref);
    }
  }
}
