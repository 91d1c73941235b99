// Table cards to print for a hall: one per table, with the QR code that seats a phone at that
// table, and the address and code for anyone who cannot scan. Table hosts' cards are apart:
// scanning one joins as the host, so they stay with the hosts, not on the tables.

import { getEvent } from "../api.js";
import { errorText, pickLanguage, t, useLanguage } from "../i18n.js";
import { cleanCode } from "../session.js";
import { byId, h } from "../views/dom.js";

/** @typedef {import("../api.js").Room} Room */

/**
 * @param {{title: string, join_code: string}} event
 * @param {Room} room
 * @param {boolean} host
 * @returns {HTMLElement}
 */
function card(event, room, host) {
  const code = event.join_code;
  const src = `/api/events/${encodeURIComponent(code)}/rooms/${encodeURIComponent(room.id)}`
    + `/qr.svg${host ? "?as=host" : ""}`;
  const address = `${location.origin}/join/${encodeURIComponent(code)}`;
  return h("article", { class: `table-card${host ? " host" : ""}`, "data-testid": "table-card",
    "data-room": room.id },
  h("p", { class: "table-card-kind", text: host ? t("cards.hostKind") : t("cards.scan") }),
  h("h2", { class: "table-card-name", text: room.name }),
  h("img", { class: "table-card-qr", src, width: "260", height: "260",
    alt: t(host ? "cards.hostAlt" : "cards.alt", { table: room.name }) }),
  h("p", { class: "table-card-address", text: host ? t("cards.hostKeep")
    : t("cards.orOpen", { url: address, code }) }),
  h("p", { class: "table-card-event muted small", text: event.title }));
}

async function main() {
  const params = new URLSearchParams(location.hash.replace(/^#/, "") || location.search);
  const code = cleanCode(params.get("code") ?? "");
  const error = byId("cards-error");
  if (!code) {
    error.textContent = t("cards.noCode");
    error.hidden = false;
    return;
  }
  /** @type {{event: {title: string, join_code: string, language: string}, rooms: Room[]}} */
  let info;
  try {
    info = await getEvent(code);
  } catch (err) {
    error.textContent = errorText(/** @type {import("../api.js").ApiError} */ (err));
    error.hidden = false;
    return;
  }
  useLanguage(pickLanguage(info.event.language));
  byId("event-title").textContent = info.event.title;
  document.title = `Tablée: ${info.event.title}`;
  const hosts = /** @type {HTMLInputElement} */ (byId("with-hosts"));
  const draw = () => {
    const rooms = info.rooms;
    if (!rooms.length) {
      byId("cards").replaceChildren(h("p", { class: "muted", text: t("cards.none") }));
      return;
    }
    const cards = rooms.map((r) => card(info.event, r, false));
    if (hosts.checked) cards.push(...rooms.map((r) => card(info.event, r, true)));
    byId("cards").replaceChildren(...cards);
  };
  hosts.addEventListener("change", draw);
  byId("print").addEventListener("click", () => window.print());
  draw();
}

useLanguage(pickLanguage(null));
main();
