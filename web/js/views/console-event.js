// Running the event from the console: follows the agenda and the staff channel, and draws the
// agenda, the side panel, each table's people and help flag, the tables' QR codes, and what is
// on the plenary screen.

import { EventState } from "../event-state.js";
import { t } from "../i18n.js";
import { mountAgendaPanel } from "./agenda-panel.js";
import { mountRunPanel } from "./console-run.js";
import { mountSpotlightControl } from "./console-spotlight.js";
import { byId, h } from "./dom.js";
import { mountConsoleQuestion } from "./question.js";
import { RoomPeople } from "./room-people.js";
import { mountSupported } from "./supported.js";

/** @typedef {import("../socket.js").TableeSocket} TableeSocket */
/** @typedef {import("../api.js").Room} Room */
/** @typedef {import("./room.js").RoomWall} RoomWall */
/** @typedef {import("./notes.js").ShownNote} ShownNote */
/** @typedef {import("./console-spotlight.js").SpotlightTarget} SpotlightTarget */

/**
 * @param {{socket: TableeSocket, notify: (m: string) => void, code: string,
 *          rooms: () => Room[]}} options
 */
export function mountConsoleEvent({ socket, notify, code, rooms }) {
  const state = new EventState();
  mountAgendaPanel(byId("agenda"), { socket, state, notify });
  const run = mountRunPanel({ broadcast: byId("broadcast"), help: byId("help-calls"),
    topics: byId("topics"), screen: byId("screen") }, { socket, state, notify, rooms, code });
  const showQr = qrDialog(code);
  const spotlight = mountSpotlightControl(byId("spotlight-bar"), { socket, notify, rooms });

  /** @type {Set<RoomWall>} */
  const walls = new Set();
  const everyStep = /** @type {HTMLInputElement} */ (byId("all-steps"));
  // As on the phones: a step that counts votes shows every step's notes, voted on there.
  const noteFilter = () => {
    const step = state.agenda.current.step;
    if (!step || everyStep.checked || (state.step?.votes ?? 0) > 0) return undefined;
    return (/** @type {ShownNote} */ n) => Boolean(n.pending) || n.step_id === step;
  };
  let filteredStep = /** @type {string | null | undefined} */ (undefined);
  const refilter = () => {
    filteredStep = state.agenda.current.step;
    for (const wall of walls) wall.setFilter(noteFilter());
  };
  everyStep.addEventListener("change", refilter);
  /** @param {string} id @returns {string} */
  const roomName = (id) => rooms().find((r) => r.id === id)?.name ?? t("plenary.aTable");
  mountSupported(byId("supported"), { state, walls, roomName });
  state.subscribe(() => { if (state.agenda.current.step !== filteredStep) refilter(); });
  const question = mountConsoleQuestion(byId("question"), { socket, state, roomName });
  state.subscribe(() => {
    byId("answers-report").hidden = !state.agenda.steps.some((s) => s.choices?.length);
  });

  socket.keep("event.watch", {}, (ack) => {
    state.setAgenda(ack.payload.agenda);
    spotlight.set(ack.payload.spotlight, ack.payload.spotlight_version);
  });
  socket.keep("console.watch", {}, (ack) => {
    const p = ack.payload;
    state.people.clear();
    state.help.clear();
    state.topics.clear();
    state.upsertPeople(p.people);
    for (const help of p.help) state.setHelp(help.room, help);
    state.upsertTopics(p.topics);
    question.refresh(); // answers given while this console was away
  });
  /** @param {Event} ev @returns {any} */
  const detail = (ev) => /** @type {CustomEvent} */ (ev).detail;
  socket.addEventListener("frame", (ev) => {
    const frame = detail(ev);
    const p = frame.payload;
    switch (frame.type) {
      case "agenda.state":
        state.setAgenda(p);
        break;
      case "people.updated":
        state.upsertPeople(p.people, p.removed);
        break;
      case "help.updated":
        state.setHelp(p.room, p.help);
        if (p.help) {
          const room = rooms().find((r) => r.id === p.room);
          notify(room ? t("console.help.needs", { table: room.name }) : t("console.help.someone"));
        }
        break;
      case "topics.updated":
        state.upsertTopics(p.topics);
        break;
      case "spotlight":
        spotlight.set(p.spotlight, p.version);
        break;
      case "answers.updated":
        question.update(p.tally ?? p);
        break;
      case "step.warning":
        notify(t("step.oneMinute"));
        break;
      case "step.ended":
        notify(t(p.recalled ? "console.step.recalled" : "console.step.ended"));
        break;
      default:
        break;
    }
  });

  return {
    state,
    noteFilter,
    /** @param {SpotlightTarget} target put it on the plenary screen */
    spotlight: spotlight.show,
    /**
     * Add the people, help flag and tools to a new table card.
     * @param {HTMLElement} card
     * @param {Room} room
     * @returns {RoomPeople}
     */
    decorate(card, room) {
      return new RoomPeople({ card, room, state, socket, notify, rooms, showQr,
        onShow: (shown) => spotlight.show({ room: shown.id }) });
    },
    /** @param {RoomWall} wall */
    track(wall) {
      walls.add(wall);
    },
    roomsChanged() {
      run.roomsChanged();
      state.changed();
    },
  };
}

/**
 * The dialog that shows a table's QR codes: one to join as a participant, one for the host's
 * device that types for the table in the hall.
 * @param {string} code
 * @returns {(room: Room) => void}
 */
function qrDialog(code) {
  const dialog = /** @type {HTMLDialogElement} */ (byId("qr-dialog"));
  return (room) => {
    const base = `/api/events/${encodeURIComponent(code)}/rooms/${encodeURIComponent(room.id)}`;
    const join = `${location.origin}/join/${encodeURIComponent(code)}?room=${room.id}`;
    const figure = (/** @type {string} */ src, /** @type {string} */ caption,
      /** @type {string} */ href) => h("figure", { class: "qr" },
      h("img", { src, alt: t("console.qr.alt", { caption }), width: "220", height: "220" }),
      h("figcaption", {}, h("strong", { text: caption }), h("br"),
        h("a", { href, target: "_blank", rel: "noopener", text: href })));
    dialog.replaceChildren(
      h("h2", { text: room.name }),
      h("p", { class: "muted", text: t("console.qr.hint") }),
      h("div", { class: "qr-pair" },
        figure(`${base}/qr.svg`, t("console.qr.join"), join),
        figure(`${base}/qr.svg?as=host`, t("console.qr.host"), `${join}&as=host`)),
      h("form", { method: "dialog" },
        h("button", { class: "button small", type: "submit", text: t("console.close") })));
    dialog.showModal();
  };
}
