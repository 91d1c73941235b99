// The table picker shown before joining: "any table" or one table, with how full each is.

import { h } from "./dom.js";

/** @typedef {import("../api.js").Room} Room */

/**
 * Fill a fieldset with radio buttons, one per room plus "any table" (checked).
 * @param {HTMLElement} fieldset
 * @param {Room[]} rooms
 */
export function renderRoomPicker(fieldset, rooms) {
  const legend = h("legend", { text: "Choose a table" });
  const option = (/** @type {string} */ value, /** @type {string} */ name,
    /** @type {string} */ detail, /** @type {boolean} */ full) => {
    const id = "room-" + (value || "any");
    return h("div", { class: "choice" + (full ? " full" : "") },
      h("input", { type: "radio", name: "room", id, value, checked: value === "", disabled: full }),
      h("label", { for: id }, h("span", { class: "choice-name", text: name }),
        h("span", { class: "choice-detail", text: detail })));
  };
  fieldset.replaceChildren(legend,
    option("", "Any table", "we seat you at the least full one", false),
    ...rooms.map((r) => option(r.id, r.name, r.members >= r.capacity ? "full"
      : `${r.members} of ${r.capacity} seated`, r.members >= r.capacity)));
}
