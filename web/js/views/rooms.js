// The table picker shown before joining: "any table" or one table, with how full each is.

import { h } from "./dom.js";
import { t } from "../i18n.js";

/** @typedef {import("../api.js").Room} Room */

/**
 * Fill a fieldset with radio buttons, one per room plus "any table" (checked).
 * @param {HTMLElement} fieldset
 * @param {Room[]} rooms
 */
export function renderRoomPicker(fieldset, rooms) {
  const legend = h("legend", { text: t("join.chooseTable") });
  const option = (/** @type {string} */ value, /** @type {string} */ name,
    /** @type {string} */ detail, /** @type {boolean} */ full) => {
    const id = "room-" + (value || "any");
    return h("div", { class: "choice" + (full ? " full" : "") },
      h("input", { type: "radio", name: "room", id, value, checked: value === "", disabled: full }),
      h("label", { for: id }, h("span", { class: "choice-name", text: name }),
        h("span", { class: "choice-detail", text: detail })));
  };
  fieldset.replaceChildren(legend,
    option("", t("join.anyTable"), t("join.anyTableDetail"), false),
    ...rooms.map((r) => option(r.id, r.name, r.members >= r.capacity ? t("join.full")
      : t("join.seated", { members: r.members, capacity: r.capacity }), r.members >= r.capacity)));
}
