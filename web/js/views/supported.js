// The console's live tally while a step counts votes: the notes liked most across every
// table, so a facilitator can read out what the room is choosing before the step ends.

import { language, t } from "../i18n.js";
import { h } from "./dom.js";

/** @typedef {import("../event-state.js").EventState} EventState */
/** @typedef {import("./room.js").RoomWall} RoomWall */
/** @typedef {import("../wall.js").Note} Note */

const SHOWN = 10;
const EVERY_MS = 1000;

/**
 * @param {Iterable<RoomWall>} walls
 * @param {number} [limit]
 * @returns {{note: Note, room: string}[]} the most liked notes, most first; ties in the order
 *   they were written
 */
export function mostSupported(walls, limit = SHOWN) {
  const all = [];
  for (const wall of walls) {
    for (const note of wall.wall.notes.values()) {
      if ((note.likes || []).length) all.push({ note, room: wall.room });
    }
  }
  all.sort((a, b) => b.note.likes.length - a.note.likes.length
    || a.note.created_at.localeCompare(b.note.created_at));
  return all.slice(0, limit);
}

/**
 * Show the tally in `root` while the running step gives each person votes; hidden otherwise.
 * @param {HTMLElement} root
 * @param {{state: EventState, walls: Set<RoomWall>, roomName: (id: string) => string}} options
 */
export function mountSupported(root, { state, walls, roomName }) {
  const list = h("ol", { class: "supported-list", "data-testid": "supported-list" });
  const heading = h("h3", { class: "supported-heading" });
  root.replaceChildren(heading, list);
  let drawn = "";
  const render = () => {
    const votes = state.step?.votes ?? 0;
    root.hidden = votes <= 0;
    if (root.hidden) return;
    heading.textContent = t("console.supported.heading", { n: votes });
    const top = mostSupported(walls);
    // Redrawn only when something changed: a list that is rebuilt every second loses the
    // reader's text selection.
    const key = language() + top.map(({ note }) => `${note.id}:${note.likes.length}`).join();
    if (key === drawn && list.childElementCount) return;
    drawn = key;
    if (!top.length) {
      list.replaceChildren(h("li", { class: "empty", text: t("console.supported.none") }));
      return;
    }
    list.replaceChildren(...top.map(({ note, room }) => h("li", { class: "supported-note" },
      h("span", { class: "supported-count", text: `♥ ${note.likes.length}` }),
      h("span", { class: "supported-text", text: note.text }),
      h("span", { class: "muted small", text: roomName(room) }))));
  };
  state.subscribe(render);
  setInterval(render, EVERY_MS);
  render();
}
