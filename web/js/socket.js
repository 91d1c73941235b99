// The one live connection to the server: opens the WebSocket with the token subprotocol,
// reconnects with exponential backoff and jitter, re-joins every watched room with `since`,
// hands room diffs on strictly in sequence order, and sends the outbox until acknowledged.

import { RoomCursor } from "./cursor.js";
import { encode, newId, parse, PendingRequests, RequestError, ROOM_DIFF_TYPES, SUBPROTOCOL,
  TOKEN_PREFIX } from "./protocol.js";
import { applyThemesDiff } from "./themes-diff.js";
import { backoffDelay, Pacer } from "./timing.js";

/** @typedef {import("./protocol.js").Frame} Frame */
/** @typedef {import("./outbox.js").Outbox} Outbox */
/** @typedef {import("./outbox.js").OutboxEntry} OutboxEntry */
/** @typedef {"connecting" | "open" | "reconnecting" | "offline" | "closed"} ConnectionState */

/** The server's close code for a person removed from the event: their token is refused. */
export const CLOSE_REMOVED = 4403;
/** The server's close code for every connection of an event that was deleted. */
export const CLOSE_EVENT_DELETED = 4410;

/**
 * Events (CustomEvent, data in `detail`):
 * - `status` {state, retryInMs}
 * - `hello` the hello payload
 * - `snapshot` {room, info, notes, members, seq, epoch}: replace that room's wall
 * - `members` {room, members}: the full member list (after a recovered join)
 * - `diff` a room diff frame, in order, never twice
 * - `presence` {room, joins, leaves}
 * - `rooms` the room list, `themes` the themes (each update's diff applied to what was held),
 *   `themes-watch` the themes.watch ack
 * - `acked` {entry, note}, `rejected` {entry, error}: outbox entries settled
 * - `room-error` {room, error}
 * - `unreachable` {attempts}: several connection attempts in a row failed before opening
 * - `removed` {}: a facilitator took this person out of the event; the socket stops for good
 * - `deleted` {}: a facilitator deleted the event; the socket stops for good
 * - `frame` any other server frame (agenda, moves, broadcasts, help, people, topics)
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
    /** @type {any} the latest themes snapshot, which the next `themes.diff` applies to */
    this.themesHeld = null;
    /** @type {{type: string, payload: Record<string, any>, onAck: (f: Frame) => void}[]} */
    this.kept = [];
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
    // Well under the server's default limit (20 frames/s, bursts of 60).
    this.pacer = new Pacer(10, 30);
    /** @type {string[]} frames waiting for the pacer */
    this.sendQueue = [];
    /** @type {number | undefined} */
    this.sendTimer = undefined;
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => this.dropConnection("offline");
    this.onVisible = () => { if (document.visibilityState === "visible") this.check(); };
  }

  /** Open the connection and keep it open until stop(). */
  start() {
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    document.addEventListener("visibilitychange", this.onVisible);
    this.connect();
  }

  /** Close for good. */
  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    document.removeEventListener("visibilitychange", this.onVisible);
    clearTimeout(this.retryTimer);
    this.ws?.close(1000, "bye");
    this.setState("closed");
  }

  /** Taken out of the event (a `removed` frame, or the close that follows it): stop for good. */
  removed() {
    if (this.stopped) return;
    this.stop();
    this.emit("removed", {});
  }

  /** The event was deleted (an `event.deleted` frame, or the close after it): stop for good. */
  deleted() {
    if (this.stopped) return;
    this.stop();
    this.emit("deleted", {});
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
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      // Trying again would be refused the same way, for ever.
      if (ev.code === CLOSE_REMOVED) this.removed();
      if (ev.code === CLOSE_EVENT_DELETED) this.deleted();
      if (!opened) this.failuresBeforeOpen += 1;
      this.closed();
    };
  }

  /** The socket is gone: fail what waits on it and plan the next attempt. */
  closed() {
    this.ws = null;
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.sendTimer);
    this.sendTimer = undefined;
    this.sendQueue = [];
    this.pending.failAll("connection lost");
    this.inFlight.clear();
    for (const cursor of this.rooms.values()) cursor.reset();
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
   * The page is back in view (a phone was unlocked): its socket may have died unnoticed while
   * timers were asleep. Ask the server, and reconnect at once if it does not answer.
   */
  check() {
    if (!this.ws) {
      this.reconnectNow();
      return;
    }
    if (this.state !== "open") return;
    this.request("ping", {}, 4000).catch((error) => {
      if (error.code === "timeout") this.dropConnection("no answer from server");
    });
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
          cursor.reset();
          this.join(cursor);
        }
        break;
      }
      case "rooms.updated":
        this.emit("rooms", p.rooms);
        break;
      case "removed":
        this.removed();
        break;
      case "event.deleted":
        this.deleted();
        break;
      case "themes.snapshot":
        this.themesHeld = p;
        this.emit("themes", p);
        break;
      case "themes.diff": {
        const next = applyThemesDiff(this.themesHeld, p);
        if (next) {
          this.themesHeld = next;
          this.emit("themes", next);
        } else if (this.themesHeld && p.version !== this.themesHeld.version) {
          // A version went by unseen (or the themes were remade from an older stored
          // version): asking again brings the latest snapshot.
          this.sendThemesWatch();
        }
        break;
      }
      case "error":
        if (frame.ref === undefined) console.warn("server error:", p.code, p.message);
        break;
      default:
        this.emit("frame", frame);
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
    // Kept requests first: `event.watch` says where one sits now, before rooms are re-joined.
    for (const kept of this.kept) this.sendKept(kept);
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

  /**
   * Send a request now and again after every reconnect, e.g. `event.watch`: its answer is a
   * fresh snapshot each time, and it (re)subscribes this connection.
   * @param {string} type
   * @param {Record<string, any>} payload
   * @param {(ack: Frame) => void} onAck
   */
  keep(type, payload, onAck) {
    const kept = { type, payload, onAck };
    this.kept.push(kept);
    if (this.state === "open") this.sendKept(kept);
  }

  /** @param {{type: string, payload: Record<string, any>, onAck: (f: Frame) => void}} kept */
  sendKept(kept) {
    this.request(kept.type, kept.payload).then(kept.onAck).catch((error) => {
      if (error.code !== "disconnected") this.emit("room-error", { room: null, error });
    });
  }

  /**
   * Stop following a room (after moving to another): leave it if still joined.
   * @param {string} room
   */
  unwatchRoom(room) {
    if (!this.rooms.delete(room)) return;
    if (this.state === "open") this.request("room.leave", { room }).catch(() => {});
  }

  /** Receive the themes now and after each update (as diffs), across reconnects. */
  watchThemes() {
    this.wantThemes = true;
    if (this.state === "open") this.sendThemesWatch();
  }

  sendThemesWatch() {
    this.request("themes.watch", { diffs: true })
      .then((ack) => this.emit("themes-watch", ack.payload))
      .catch((error) => {
        if (error.code !== "disconnected") this.emit("room-error", { room: null, error });
      });
  }

  /** @param {RoomCursor} cursor */
  join(cursor) {
    if (cursor.joining) return;
    /** @type {Record<string, any>} */
    const payload = { room: cursor.id };
    const since = cursor.since();
    if (since) payload.since = since;
    cursor.startJoin();
    this.request("room.join", payload).catch((error) => {
      cursor.reset();
      if (error.code === "disconnected") return; // joined again after the reconnect
      if (error.retryable) {
        setTimeout(() => { if (this.state === "open" && !cursor.joined) this.join(cursor); },
          1000 + Math.random() * 1000);
      } else {
        this.emit("room-error", { room: cursor.id, error });
      }
    });
  }

  /** @param {any} p the room.joined payload */
  onJoined(p) {
    const roomId = p.room?.id;
    const cursor = this.rooms.get(roomId);
    if (!cursor) return;
    const { diffs, rejoin } = cursor.settle(p);
    if (p.recovered) {
      this.emit("members", { room: roomId, info: p.room, members: p.members || [] });
    } else {
      this.emit("snapshot", { room: roomId, info: p.room, notes: p.notes || [],
        members: p.members || [], seq: p.seq, epoch: p.epoch });
    }
    for (const frame of diffs) this.emit("diff", frame);
    if (rejoin) this.join(cursor);
    else this.flush(roomId);
  }

  /** @param {Frame} frame */
  onDiff(frame) {
    const cursor = this.rooms.get(/** @type {string} */ (frame.room));
    if (!cursor) return;
    const verdict = cursor.offer(frame);
    if (verdict === "apply") this.emit("diff", frame);
    else if (verdict === "rejoin") this.join(cursor); // lost frames or new history: catch up
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
    this.sendQueue.push(encode(type, payload, ref));
    this.pump();
    return answer;
  }

  /** Send queued frames as fast as the pacer allows. */
  pump() {
    while (this.sendQueue.length && this.ws?.readyState === WebSocket.OPEN) {
      const wait = this.pacer.take();
      if (wait > 0) {
        if (this.sendTimer === undefined) {
          this.sendTimer = setTimeout(() => { this.sendTimer = undefined; this.pump(); }, wait);
        }
        return;
      }
      this.ws.send(/** @type {string} */ (this.sendQueue.shift()));
    }
  }

  /**
   * Post a note: it goes to the outbox first, so it survives a lost connection or a reload.
   * @param {string} room
   * @param {string} text
   * @returns {string} the new note's id
   */
  post(room, text) {
    const id = newId();
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
