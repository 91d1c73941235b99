// The participant page: join an event with its code, pick a table, then that table's live wall,
// under what a facilitator put on the plenary screen.

import { ApiError, getEvent, joinEvent, socketUrl } from "../api.js";
import { Outbox } from "../outbox.js";
import { cleanCode, forgetSession, loadSession, outboxKey, saveSession } from "../session.js";
import { TableeSocket } from "../socket.js";
import { EventState } from "../event-state.js";
import { chooseLanguage, errorText, language, languagePicker, pickLanguage, t, useLanguage }
  from "../i18n.js";
import { composer } from "../views/composer.js";
import { byId, h, showOnly } from "../views/dom.js";
import { Notices } from "../views/notices.js";
import { Ballot } from "../views/question.js";
import { renderRoomPicker } from "../views/rooms.js";
import { RoomWall } from "../views/room.js";
import { latestOnly, renderSpotlight } from "../views/spotlight.js";
import { mountStatus } from "../views/status.js";
import { mountStepCard } from "../views/step.js";
import { TableActions } from "../views/table-actions.js";
import { notifier } from "../views/toast.js";

/** @typedef {import("../session.js").Session} Session */
/** @typedef {import("../api.js").Room} Room */
/** @typedef {import("../api.js").Participant} Participant */
/** @typedef {import("../views/notes.js").ShownNote} ShownNote */

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
    useLanguage(pickLanguage(event.language));
    const line = byId("event-line");
    line.textContent = event.title;
    line.hidden = false;
    renderRoomPicker(byId("room-picker"), rooms);
    joinForm.dataset.code = event.join_code;
    showScannedTable(rooms);
    showOnly(joinForm, codeForm);
    const name = /** @type {HTMLInputElement} */ (byId("pseudonym"));
    if (pseudonym) name.value = pseudonym;
    name.focus();
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      askCode(t("join.noEvent", { code }));
    } else {
      askCode(errorText(/** @type {ApiError} */ (err)));
    }
  }
}

/**
 * A table's QR code (`/join/CODE?room=ID`, `&as=host` for its host) seats you at that table:
 * the picker gives way to the table's name.
 * @param {Room[]} rooms
 */
function showScannedTable(rooms) {
  const { room, host } = scannedTable();
  const table = rooms.find((r) => r.id === room);
  const picker = byId("room-picker");
  const line = byId("scanned-table");
  joinForm.dataset.role = host ? "table_host" : "participant";
  if (!table) {
    picker.hidden = false;
    line.hidden = true;
    return;
  }
  const radio = /** @type {HTMLInputElement | null} */ (
    picker.querySelector(`input[value="${CSS.escape(table.id)}"]`));
  if (radio) radio.checked = true;
  picker.hidden = true;
  line.textContent = t(host ? "join.asHost" : "join.atTable", { table: table.name });
  line.hidden = false;
}

/** @returns {{room: string | null, host: boolean}} the table a scanned link names */
function scannedTable() {
  const params = new URLSearchParams(location.search);
  return { room: params.get("room"), host: params.get("as") === "host" };
}

/**
 * Open the wall of the participant's table, and follow the event: the step and its countdown,
 * broadcasts, and moves to another table.
 * @param {Session} session
 */
function enterWall(session) {
  showOnly(wallView, joinView);
  useLanguage(pickLanguage(session.event.language));
  current = session;
  const me = session.participant;
  /** @type {Room[]} */
  let rooms = session.rooms;
  byId("event-title").textContent = t("wall.eventLine",
    { title: session.event.title, code: session.event.join_code });
  document.title = `Tablée: ${session.event.title}`;

  const outbox = new Outbox(outboxKey(me.id));
  socket = new TableeSocket({ url: socketUrl(), token: session.token, outbox });
  const live = socket;
  mountStatus(byId("status"), live, outbox);
  const state = new EventState();
  const notices = new Notices(byId("notices"));
  mountStepCard(byId("step-slot"), state, { tablesText: t("step.atYourTable") });
  const actions = new TableActions(byId("table-actions"),
    { socket: live, state, notify, role: me.role });
  const earlier = /** @type {HTMLInputElement} */ (byId("earlier-steps"));
  const ballot = new Ballot(byId("question-slot"),
    { socket: live, state, notify, role: () => me.role });

  /** @type {string} */
  let room = /** @type {string} */ (me.room_id);
  /** @type {RoomWall | null} */
  let wall = null;
  /** @type {number | null} votes left in the running step, as the server last said */
  let votesLeft = null;
  const budget = () => {
    const bound = me.role === "participant" || me.role === "table_host";
    return bound ? state.step?.votes ?? 0 : 0;
  };
  const showVotes = () => {
    const total = budget();
    const left = total > 0 ? votesLeft ?? total : null;
    const box = byId("votes");
    box.hidden = left === null;
    if (left !== null) {
      byId("votes-left").textContent = t("votes.left", { n: left, total });
      byId("votes-hint").textContent = t(left === 0 ? "votes.spent" : "votes.hint");
    }
    wall?.setVotesLeft(left);
    // Every step's notes are shown while votes are counted: nothing to tick.
    const tick = earlier.closest("label");
    if (tick) tick.hidden = total > 0;
  };
  /** @param {number | null} left */
  const setVotes = (left) => {
    votesLeft = left;
    showVotes();
  };
  // Each step has its own wall; earlier steps' notes stay a tick away. A step that counts
  // votes shows every step's notes: one votes on what was written before.
  const stepFilter = () => {
    const step = state.agenda.current.step;
    if (!step || earlier.checked || budget() > 0) return undefined;
    return (/** @type {ShownNote} */ n) => Boolean(n.pending) || n.step_id === step;
  };
  const showRoom = () => {
    const r = rooms.find((x) => x.id === room);
    byId("room-name").textContent = r ? r.name : t("wall.yourTable");
    const host = me.role === "table_host";
    byId("role-line").textContent = host ? t("wall.hostLine") : "";
    byId("role-line").hidden = !host;
  };
  /** @param {string} id */
  const openWall = (id) => {
    wall?.close();
    if (room !== id) live.unwatchRoom(room);
    room = id;
    const list = h("ul", { id: "notes", class: "notes", "aria-live": "polite",
      "data-testid": "notes" });
    byId("notes").replaceWith(list);
    wall = new RoomWall({
      room: id, socket: live, outbox, me: me.id, pseudonym: me.pseudonym,
      list, members: byId("members"), notify, filter: stepFilter(),
      composer: () => document.getElementById("note-text"),
      onChange: (w) => { byId("member-count").textContent = String(w.members.size); },
      onVotes: setVotes,
    });
    showVotes();
    live.watchRoom(id);
    actions.setRoom(id, rooms);
    showRoom();
  };
  /**
   * @param {Participant} participant as stored now
   * @param {Room | null} info the new room
   * @param {string} [reason]
   */
  const moved = (participant, info, reason) => {
    if (info && info.name) rooms = [...rooms.filter((r) => r.id !== info.id), info];
    Object.assign(me, participant);
    saveSession("participant", { ...session, participant: me, rooms });
    if (!participant.room_id || participant.room_id === room) return;
    openWall(participant.room_id);
    const table = rooms.find((r) => r.id === room)?.name ?? t("wall.anotherTable");
    const why = t(reason === "chosen" ? "wall.nowAt" : "wall.movedTo", { table });
    notices.show("moved", why,
      { detail: t(reason === "assigned" ? "wall.movedMixed" : "wall.movedStay") });
  };

  const slot = byId("composer-slot");
  slot.replaceChildren(composer((text) => live.post(room, text)));
  earlier.addEventListener("change", () => wall?.setFilter(stepFilter()));
  let shownStep = /** @type {string | null} */ (null);
  state.subscribe(() => {
    wall?.setFilter(stepFilter());
    const step = state.agenda.current.step;
    if (step !== shownStep) {
      shownStep = step;
      notices.clear("step");
      // Not asked of the server: every phone asking at once as a step starts would be a burst
      // of hundreds of requests. A new step starts with every vote; a step run again counts
      // what was given before, which the next like's ack (or event.watch) says.
      votesLeft = null;
    }
    showVotes();
  });

  const spotlight = latestOnly((shown) => renderSpotlight(byId("spotlight"), shown));

  /** @param {Event} ev @returns {any} */
  const detail = (ev) => /** @type {CustomEvent} */ (ev).detail;
  live.addEventListener("hello", (ev) => {
    rooms = detail(ev).rooms || rooms;
    showRoom();
    actions.setRooms(rooms);
  });
  live.addEventListener("rooms", (ev) => {
    rooms = detail(ev) || rooms;
    showRoom();
    actions.setRooms(rooms);
  });
  live.addEventListener("room-error", (ev) => {
    const { room: failed, error } = detail(ev);
    if (failed && failed !== room) return; // a table left behind after a move
    notify(failed ? t("wall.cannotOpen", { reason: errorText(error) }) : errorText(error));
  });
  live.addEventListener("unreachable", () => checkSeat(session, live));
  live.addEventListener("removed", () => {
    wall?.close();
    showOnly(byId("removed-view"), wallView, joinView);
    byId("status").replaceChildren();
  });
  live.addEventListener("deleted", () => {
    wall?.close();
    // Nothing of an erased event stays on the phone: its seat, nor notes still waiting.
    forgetSession("participant", session.event.join_code);
    localStorage.removeItem(outboxKey(me.id));
    showOnly(byId("deleted-view"), wallView, joinView);
    byId("status").replaceChildren();
  });
  live.keep("event.watch", {}, (ack) => {
    const p = ack.payload;
    state.setAgenda(p.agenda);
    setVotes(p.votes_left ?? null);
    ballot.setAnswer(p.answer ?? null);
    ballot.fetchResultIfClosed();
    if (p.participant.role !== me.role) {
      me.role = p.participant.role;
      actions.role = me.role;
      showRoom();
    }
    moved(p.participant, null, "moved");
    const latest = (p.broadcasts || [])[0];
    if (latest) notices.broadcast(latest);
    actions.setHelp(Boolean(p.help));
    spotlight(p.spotlight, p.spotlight_version);
  });
  live.addEventListener("frame", (ev) => {
    const frame = detail(ev);
    const p = frame.payload;
    switch (frame.type) {
      case "agenda.state":
        state.setAgenda(p);
        break;
      case "step.warning":
        notices.show("step", t("step.oneMinute"), { tone: "warn" });
        break;
      case "step.ended":
        notices.show("step", t(p.recalled ? "step.recalled" : "step.timeUp"), { tone: "warn" });
        break;
      case "broadcast":
        notices.broadcast(p);
        break;
      case "spotlight":
        spotlight(p.spotlight, p.version);
        break;
      case "moved":
        moved(p.participant, p.room, p.reason);
        break;
      case "event.updated":
        session.event = { ...session.event, ...p.event };
        saveSession("participant", { ...session, participant: me, rooms });
        if (pickLanguage(session.event.language) !== language()) relanguage();
        break;
      case "note.similar":
        wall?.offerSimilar(p);
        break;
      case "answers.updated":
        ballot.showResult(p.tally ?? p);
        break;
      case "help.updated":
        if (p.room === room) actions.setHelp(Boolean(p.help));
        break;
      case "people.updated": {
        const mine = (p.people || []).find((/** @type {Participant} */ x) => x.id === me.id);
        if (mine) {
          me.role = mine.role;
          actions.role = mine.role;
          saveSession("participant", { ...session, participant: me, rooms });
          showRoom();
          actions.render();
          ballot.render();
        }
        break;
      }
      default:
        break;
    }
  });
  openWall(room);
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
  } catch (err) {
    // Deleted while this phone was away; otherwise the server is out of reach: keep retrying.
    if (err instanceof ApiError && err.status === 404) live.deleted();
    return;
  }
  live.stop();
  forgetSession("participant", session.event.join_code);
  try {
    const joined = await joinEvent(session.event.join_code, session.participant.pseudonym,
      session.participant.room_id,
      session.participant.role === "table_host" ? "table_host" : "participant");
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
    showError(t("join.expired", { reason: errorText(/** @type {ApiError} */ (err)) }));
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
    const role = joinForm.dataset.role === "table_host" ? "table_host" : "participant";
    const joined = await joinEvent(code, String(data.get("pseudonym")).trim(),
      String(data.get("room") ?? "") || null, role);
    saveSession("participant", joined);
    enterWall(joined);
  } catch (err) {
    const e = /** @type {ApiError} */ (err);
    if (e.code === "room_full") {
      showError(t("join.tableFull"));
      askSeat(code, String(data.get("pseudonym")));
    } else showError(errorText(e));
  } finally {
    button.disabled = false;
  }
});

byId("other-code").addEventListener("click", () => askCode());

byId("leave").addEventListener("click", () => {
  const session = current;
  const waiting = socket?.outbox.size ?? 0;
  const question = t("wall.leaveWaiting", { n: waiting });
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

/**
 * The facilitator changed the event's language: the page reloads in it, a few seconds apart
 * on each phone of a hall, and never over a note being written or edited.
 */
function relanguage() {
  const later = () => {
    const draft = /** @type {HTMLTextAreaElement | null} */ (document.getElementById("note-text"));
    if ((draft && draft.value.trim()) || document.querySelector(".note-edit-form")) {
      setTimeout(later, 2000);
    } else {
      location.reload();
    }
  };
  setTimeout(later, Math.random() * 3000);
}

useLanguage(pickLanguage(null));
byId("language-slot").replaceChildren(languagePicker((code) => {
  chooseLanguage(code);
  location.reload();
}));
const initial = codeFromUrl();
if (initial) start(initial);
else askCode();
