// The participant page: join an event with its code, pick a table, then that table's live wall.

import { ApiError, getEvent, joinEvent, socketUrl } from "../api.js";
import { Outbox } from "../outbox.js";
import { cleanCode, forgetSession, loadSession, outboxKey, saveSession } from "../session.js";
import { TableeSocket } from "../socket.js";
import { composer } from "../views/composer.js";
import { byId, showOnly } from "../views/dom.js";
import { renderRoomPicker } from "../views/rooms.js";
import { RoomWall } from "../views/room.js";
import { mountStatus } from "../views/status.js";
import { notifier } from "../views/toast.js";

/** @typedef {import("../session.js").Session} Session */

const joinView = byId("join-view");
const wallView = byId("wall-view");
const codeForm = /** @type {HTMLFormElement} */ (byId("code-form"));
const joinForm = /** @type {HTMLFormElement} */ (byId("join-form"));
const joinError = byId("join-error");
const notify = notifier(byId("toast"));

/** @type {TableeSocket | null} */
let socket = null;
/** @type {Session | null} */
let current = null;

/** @returns {string} the code in `/join/CODE` or `?code=`, or "" */
function codeFromUrl() {
  const m = location.pathname.match(/\/join\/([^/]+)/);
  const raw = m ? decodeURIComponent(m[1]) : new URLSearchParams(location.search).get("code") ?? "";
  return cleanCode(raw);
}

/** @param {string} message */
function showError(message) {
  joinError.textContent = message;
  joinError.hidden = !message;
}

/**
 * Ask for the code.
 * @param {string} [message]
 */
function askCode(message = "") {
  showOnly(joinView, wallView);
  showOnly(codeForm, joinForm);
  byId("event-line").hidden = true;
  showError(message);
  byId("code").focus();
}

/**
 * Show the event's tables and ask for a pseudonym.
 * @param {string} code
 * @param {string} [pseudonym] prefilled
 */
async function askSeat(code, pseudonym = "") {
  showOnly(joinView, wallView);
  showError("");
  try {
    const { event, rooms } = await getEvent(code);
    const line = byId("event-line");
    line.textContent = event.title;
    line.hidden = false;
    renderRoomPicker(byId("room-picker"), rooms);
    joinForm.dataset.code = event.join_code;
    showOnly(joinForm, codeForm);
    const name = /** @type {HTMLInputElement} */ (byId("pseudonym"));
    if (pseudonym) name.value = pseudonym;
    name.focus();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      askCode(`No event has the code ${code}. Check it and try again.`);
    } else {
      askCode(/** @type {Error} */ (err).message);
    }
  }
}

/**
 * Open the wall of the participant's table.
 * @param {Session} session
 */
function enterWall(session) {
  showOnly(wallView, joinView);
  current = session;
  const me = session.participant;
  const room = /** @type {string} */ (me.room_id);
  const roomName = (/** @type {{id: string, name: string}[]} */ rooms) => {
    const r = rooms.find((x) => x.id === room);
    if (r) byId("room-name").textContent = r.name;
  };
  roomName(session.rooms);
  byId("event-title").textContent = `${session.event.title} · code ${session.event.join_code}`;
  document.title = `Tablée: ${session.event.title}`;

  const outbox = new Outbox(outboxKey(me.id));
  socket = new TableeSocket({ url: socketUrl(), token: session.token, outbox });
  const live = socket;
  mountStatus(byId("status"), live, outbox);
  const slot = byId("composer-slot");
  slot.replaceChildren(composer((text) => live.post(room, text)));
  new RoomWall({
    room, socket: live, outbox, me: me.id, pseudonym: me.pseudonym,
    list: byId("notes"), members: byId("members"), notify,
    onChange: (wall) => { byId("member-count").textContent = String(wall.members.size); },
  });
  /** @param {Event} ev @returns {any} */
  const detail = (ev) => /** @type {CustomEvent} */ (ev).detail;
  live.addEventListener("hello", (ev) => roomName(detail(ev).rooms || []));
  live.addEventListener("rooms", (ev) => roomName(detail(ev) || []));
  live.addEventListener("room-error", (ev) => {
    const { error } = detail(ev);
    notify(`This table cannot be opened: ${error.message}`);
  });
  live.addEventListener("unreachable", () => checkSeat(session, live));
  live.watchRoom(room);
  live.start();
}

/**
 * The socket keeps failing before it opens. If the server answers over HTTP, it is refusing our
 * token (expired, or the event was reset): take a new seat, keeping the notes still waiting.
 * @param {Session} session
 * @param {TableeSocket} live
 */
async function checkSeat(session, live) {
  try {
    await getEvent(session.event.join_code);
  } catch {
    return; // the server itself is out of reach: keep retrying
  }
  live.stop();
  forgetSession("participant", session.event.join_code);
  try {
    const joined = await joinEvent(session.event.join_code, session.participant.pseudonym,
      session.participant.room_id);
    const old = new Outbox(outboxKey(session.participant.id));
    const fresh = new Outbox(outboxKey(joined.participant.id));
    const room = /** @type {string} */ (joined.participant.room_id);
    for (const e of old.list()) if (e.kind === "post") fresh.addPost(room, e.id, e.text);
    old.entries = [];
    old.save();
    saveSession("participant", joined);
    location.reload();
  } catch (err) {
    askSeat(session.event.join_code, session.participant.pseudonym);
    showError(`Your seat has expired; join again. (${/** @type {Error} */ (err).message})`);
  }
}

codeForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const code = cleanCode(/** @type {HTMLInputElement} */ (byId("code")).value);
  if (!code) return;
  history.replaceState(null, "", `/join/${encodeURIComponent(code)}`);
  start(code);
});

joinForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const code = joinForm.dataset.code ?? "";
  const data = new FormData(joinForm);
  const button = /** @type {HTMLButtonElement} */ (joinForm.querySelector("button[type=submit]"));
  button.disabled = true;
  showError("");
  try {
    const joined = await joinEvent(code, String(data.get("pseudonym")).trim(),
      String(data.get("room") ?? "") || null);
    saveSession("participant", joined);
    enterWall(joined);
  } catch (err) {
    const e = /** @type {ApiError} */ (err);
    if (e.code === "room_full") {
      showError("That table has just filled up. Pick another one.");
      askSeat(code, String(data.get("pseudonym")));
    } else showError(e.message);
  } finally {
    button.disabled = false;
  }
});

byId("other-code").addEventListener("click", () => askCode());

byId("leave").addEventListener("click", () => {
  const session = current;
  const waiting = socket?.outbox.size ?? 0;
  const question = `${waiting} note(s) have not been sent yet and will be lost. Leave anyway?`;
  if (waiting && !window.confirm(question)) return;
  socket?.stop();
  socket = null;
  if (session) forgetSession("participant", session.event.join_code);
  location.reload();
});

/** @param {string} code */
function start(code) {
  const session = loadSession("participant", code);
  if (session) enterWall(session);
  else askSeat(code);
}

const initial = codeFromUrl();
if (initial) start(initial);
else askCode();
