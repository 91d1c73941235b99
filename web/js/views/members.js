// Who is at the table right now.

import { h } from "./dom.js";
import { t } from "../i18n.js";

/** @typedef {import("../wall.js").Member} Member */

/**
 * @param {HTMLElement} list a ul element
 * @param {Iterable<Member>} members
 * @param {string} me the reader's participant id
 */
export function renderMembers(list, members, me) {
  const sorted = [...members].sort((a, b) => a.pseudonym.localeCompare(b.pseudonym));
  if (!sorted.length) {
    list.replaceChildren(h("li", { class: "empty", text: t("members.none") }));
    return;
  }
  list.replaceChildren(...sorted.map((m) => {
    const role = m.role && m.role !== "participant" ? t(`role.${m.role}`) : null;
    return h("li", { class: m.id === me ? "member me" : "member" },
      h("span", { text: m.pseudonym }),
      m.id === me ? h("span", { class: "member-tag", text: t("members.you") }) : null,
      role ? h("span", { class: "member-tag", text: role }) : null);
  }));
}
