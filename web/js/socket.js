// The one live connection to the server: opens the WebSocket with the token subprotocol,
// reconnects with exponential backoff and jitter, re-joins every watched room with `since`,
// hands room diffs on strictly in sequence order, and sends the outbox until acknowledged.

import { encode, parse, PendingRequests, RequestError, ROOM_DIFF_TYPES, SUBPROTOCOL,
  TOKEN_PREFIX } from "./protocol.js";

/** @typedef {import("./protocol.js").Frame} Frame */
/** @typedef {import("./outbox.js").Outbox} Outbox */
/** @typedef {import("./outbox.js").OutboxEntry} OutboxEntry */
/** @typedef {"connecting" | "open" | "reconnecting" | "offline" | "closed"} ConnectionState */

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

/** Where the client stands in one room's sequence. */
class RoomCursor {
  /** @param {string} id */
  constructor(id) {
    this.id = id;
    /** @type {number | null} */
    this.seq = null;
    /** @type {string | null} */
    this.epoch = null;
    this.joined = false;
    this.joining = false;
    /** @type {Frame[]} diffs that arrived while a join was in flight */
    this.buffer = [];
  }

  /** @returns {{seq: number, epoch: string} | undefined} */
  since() {
    return this.seq === null || this.epoch === null ? undefined
      : { seq: this.seq, epoch: this.epoch };
  }
}

/**
 * Events (CustomEvent, data in `detail`):
 * - `status` {state, retryInMs}
 * - `hello` the hello payload
 * - `snapshot` {room, info, notes, members, seq, epoch}: replace that room's wall
 * - `members` {room, members}: the full member list (after a recovered join)
 * - `diff` a room diff frame, in order, never twice
 * - `presence` {room, joins, leaves}
 * - `rooms` the room list, `themes` a themes snapshot, `themes-watch` the themes.watch ack
 * - `acked` {entry, note}, `rejected` {entry, error}: outbox entries settled
 * - `room-error` {room, error}
 * - `unreachable` {attempts}: several connection attempts in a row failed before opening
 */
export class TableeSocket extends EventTarget {
  /**
   * @param {{url: string, token: string, outbox: Outbox, requestTimeoutMs?: number,
   *          backoff?: {baseMs: number, maxMs: number}}} options
   */
  constructor({ url, token, outbox, requestTimeoutMs = 10000,
    backoff = { baseMs: 500, maxMs: 15000 } }) {
    super();
    this.url = url;
    this.token = token;
    this.outbox = outbox;
    this.requestTimeoutMs = requestTimeoutMs;
    this.backoff = backoff;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** @type {ConnectionState} */
    this.state = "connecting";
    this.pending = new PendingRequests();
    /** @type {Map<string, RoomCursor>} */
    this.rooms = new Map();
    this.wantThemes = false;
    /** @type {Set<string>} note ids whose outbox entry is on the wire */
    this.inFlight = new Set();
    this.attempt = 0;
    this.failuresBeforeOpen = 0;
    this.heartbeatMs = 15000;
    this.lastFrameAt = 0;
    /** @type {number | undefined} */
    this.retryTimer = undefined;
    /** @type {number | undefined} */
    this.heartbeatTimer = undefined;
    this.stopped = false;
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => this.dropConnection("offline");
  }

  /** Open the connection and keep it open until stop(). */
  start() {
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    this.connect();
  }

  /** Close for good. */
  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    clearTimeout(this.retryTimer);
    this.ws?.close(1000, "bye");
    this.setState("closed");
  }

  /** @param {ConnectionState} state @param {number} [retryInMs] */
  setState(state, retryInMs) {
    this.state = state;
    this.emit("status", { state, retryInMs });
  }

  /** @param {string} type @param {any} detail */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  connect() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.retryTimer);
    if (this.browserOffline) this.setState("offline");
    else if (this.attempt > 0 || this.failuresBeforeOpen > 0) this.setState("reconnecting");
    else this.setState("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url, [SUBPROTOCOL, TOKEN_PREFIX + this.token]);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => { opened = true; this.lastFrameAt = Date.now(); };
    ws.onmessage = (ev) => { if (this.ws === ws) this.receive(ev.data); };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      if (!opened) this.failuresBeforeOpen += 1;
      this.closed();
    };
  }

  /** The socket is gone: fail what waits on it and plan the next attempt. */
  closed() {
    this.ws = null;
    clearInterval(this.heartbeatTimer);
    this.pending.failAll("connection lost");
    this.inFlight.clear();
    for (const cursor of this.rooms.values()) {
      cursor.joined = false;
      cursor.joining = false;
      cursor.buffer = [];
    }
    if (this.stopped) return;
    if (this.failuresBeforeOpen >= 3) {
      this.emit("unreachable", { attempts: this.failuresBeforeOpen });
    }
    this.scheduleReconnect();
  }

  /** @returns {boolean} the browser knows it has no network */
  get browserOffline() {
    return navigator.onLine === false;
  }

  scheduleReconnect() {
    const delay = backoffDelay(this.attempt, this.backoff);
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.setState(this.browserOffline ? "offline" : "reconnecting", delay);
  }

  /** Try again now (the browser says the network is back, or the user asked). */
  reconnectNow() {
    if (this.stopped) return;
    this.attempt = 0;
    if (!this.ws) this.connect();
  }

  /**
   * Close the current socket, e.g. the network went away or the server stopped answering.
   * @param {string} reason
   */
  dropConnection(reason) {
    const ws = this.ws;
    if (!ws) {
      if (reason === "offline") this.setState("offline");
      return;
    }
    ws.close(4000, reason);
    this.closed();
  }

  /** @param {string} data */
  receive(data) {
    this.lastFrameAt = Date.now();
    /** @type {Frame} */
    let frame;
    try {
      frame = parse(data);
    } catch (err) {
      console.warn("ignored a frame that is not protocol v1:", err);
      return;
    }
    if (ROOM_DIFF_TYPES.has(frame.type)) this.onDiff(frame);
    else this.onOther(frame);
    this.pending.settle(frame);
  }

  /** @param {Frame} frame */
  onOther(frame) {
    const p = frame.payload;
    switch (frame.type) {
      case "hello":
        this.opened(p);
        break;
      case "room.joined":
        this.onJoined(p);
        break;
      case "presence.diff":
        this.emit("presence", { room: frame.room, joins: p.joins || [], leaves: p.leaves || [] });
        break;
      case "room.reset": {
        // The server stopped following this room for us (it could not fill a gap): re-join.
        const cursor = this.rooms.get(p.room ?? frame.room);
        if (cursor) {
          cursor.joined = false;
          cursor.joining = false;
          cursor.buffer = [];
          this.join(cursor);
        }
        break;
      }
      case "rooms.updated":
        this.emit("rooms", p.rooms);
        break;
      case "themes.snapshot":
        this.emit("themes", p);
        break;
      case "error":
        if (frame.ref === undefined) console.warn("server error:", p.code, p.message);
        break;
      default:
        break;
    }
  }

  /** @param {any} hello */
  opened(hello) {
    this.attempt = 0;
    this.failuresBeforeOpen = 0;
    this.heartbeatMs = Math.max(2, Number(hello.heartbeat) || 15) * 1000;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => this.beat(), this.heartbeatMs);
    this.setState("open");
    this.emit("hello", hello);
    for (const cursor of this.rooms.values()) this.join(cursor);
    if (this.wantThemes) this.sendThemesWatch();
  }

  /** Ping the server, drop a connection that has gone quiet, retry stuck outbox entries. */
  beat() {
    if (Date.now() - this.lastFrameAt > 2 * this.heartbeatMs + 5000) {
      this.dropConnection("no answer from server");
      return;
    }
    this.request("ping", {}).catch(() => {});
    for (const cursor of this.rooms.values()) if (cursor.joined) this.flush(cursor.id);
  }

  /**
   * Follow a room: join it now if connected, and again (with `since`) after every reconnect.
   * @param {string} room
   */
  watchRoom(room) {
    if (this.rooms.has(room)) return;
    const cursor = new RoomCursor(room);
    this.rooms.set(room, cursor);
    if (this.state === "open") this.join(cursor);
  }

  /** Receive `themes.snapshot` now and after each update, across reconnects. */
  watchThemes() {
    this.wantThemes = true;
    if (this.state === "open") this.sendThemesWatch();
  }

  sendThemesWatch() {
    this.request("themes.watch", {})
      .then((ack) => this.emit("themes-watch", ack.payload))
      .catch((error) => this.emit("room-error", { room: null, error }));
  }

  /** @param {RoomCursor} cursor */
  join(cursor) {
    if (cursor.joining) return;
    cursor.joining = true;
    /** @type {Record<string, any>} */
    const payload = { room: cursor.id };
    const since = cursor.since();
    if (since) payload.since = since;
    this.request("room.join", payload).catch((error) => {
      cursor.joining = false;
      cursor.buffer = [];
      if (error.code !== "disconnected") this.emit("room-error", { room: cursor.id, error });
    });
  }

  /** @param {any} p the room.joined payload */
  onJoined(p) {
    const roomId = p.room?.id;
    const cursor = this.rooms.get(roomId);
    if (!cursor) return;
    const buffered = cursor.buffer;
    cursor.buffer = [];
    cursor.joining = false;
    cursor.joined = true;
    if (p.recovered) {
      cursor.epoch = p.epoch;
      for (const frame of p.missed || []) this.applyInOrder(cursor, frame);
      cursor.seq = Math.max(cursor.seq ?? 0, p.seq);
      this.emit("members", { room: roomId, info: p.room, members: p.members || [] });
    } else {
      cursor.epoch = p.epoch;
      cursor.seq = p.seq;
      this.emit("snapshot", { room: roomId, info: p.room, notes: p.notes || [],
        members: p.members || [], seq: p.seq, epoch: p.epoch });
    }
    for (const frame of buffered) this.onDiff(frame);
    this.flush(roomId);
  }

  /** @param {Frame} frame */
  onDiff(frame) {
    const cursor = this.rooms.get(/** @type {string} */ (frame.room));
    if (!cursor) return;
    if (cursor.joining || !cursor.joined) {
      cursor.buffer.push(frame);
      return;
    }
    if (frame.epoch !== cursor.epoch || (frame.seq ?? 0) > (cursor.seq ?? 0) + 1) {
      // History changed or frames were lost: catch up from the last seq we trust.
      cursor.buffer.push(frame);
      cursor.joined = false;
      this.join(cursor);
      return;
    }
    this.applyInOrder(cursor, frame);
  }

  /** @param {RoomCursor} cursor @param {Frame} frame */
  applyInOrder(cursor, frame) {
    const seq = frame.seq ?? 0;
    if (cursor.seq !== null && seq <= cursor.seq) return; // already applied
    cursor.seq = seq;
    this.emit("diff", frame);
  }

  /**
   * Send a request and wait for its `ack` (or `room.joined`).
   * @param {string} type
   * @param {Record<string, any>} payload
   * @param {number} [timeoutMs]
   * @returns {Promise<Frame>} rejects with RequestError
   */
  request(type, payload, timeoutMs = this.requestTimeoutMs) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new RequestError("disconnected", "not connected"));
    }
    const ref = this.pending.nextRef();
    const answer = this.pending.wait(ref, timeoutMs);
    ws.send(encode(type, payload, ref));
    return answer;
  }

  /**
   * Post a note: it goes to the outbox first, so it survives a lost connection or a reload.
   * @param {string} room
   * @param {string} text
   * @returns {string} the new note's id
   */
  post(room, text) {
    const id = crypto.randomUUID();
    this.outbox.addPost(room, id, text);
    this.flush(room);
    return id;
  }

  /**
   * Edit a note, through the outbox like a post.
   * @param {string} room
   * @param {string} id
   * @param {string} text
   */
  edit(room, id, text) {
    this.outbox.addEdit(room, id, text);
    this.flush(room);
  }

  /**
   * Send every outbox entry of a joined room that is not already on the wire.
   * @param {string} room
   */
  flush(room) {
    const cursor = this.rooms.get(room);
    if (this.state !== "open" || !cursor?.joined) return;
    for (const entry of this.outbox.list(room)) {
      if (this.inFlight.has(entry.id)) continue;
      this.sendEntry(entry);
    }
  }

  /** @param {OutboxEntry} entry */
  sendEntry(entry) {
    const sent = { ...entry };
    this.inFlight.add(entry.id);
    const type = entry.kind === "post" ? "note.post" : "note.edit";
    this.request(type, { room: entry.room, id: entry.id, text: entry.text })
      .then((ack) => {
        this.inFlight.delete(entry.id);
        const done = this.outbox.settle(entry.id, sent.text);
        this.emit("acked", { entry: sent, note: ack.payload.note });
        if (!done) this.flush(entry.room);
      })
      .catch((error) => {
        this.inFlight.delete(entry.id);
        if (error instanceof RequestError && error.retryable) return; // kept; sent again later
        this.outbox.drop(entry.id);
        this.emit("rejected", { entry: sent, error });
      });
  }
}
