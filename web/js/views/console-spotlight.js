// The console's hand on the plenary screen: it puts a theme, a table's notes or one note there
// (`spotlight.set`), and a bar in the console's top bar says what is on it now, with a button
// to clear it and, while a table reports back, one for the next table, so a report-back round
// goes through the tables from the bar. The bar follows every facilitator's choice, as the
// server tells each console.

import { errorText, t } from "../i18n.js";
import { h } from "./dom.js";
import { latestOnly } from "./spotlight.js";

/** @typedef {import("../socket.js").TableeSocket} TableeSocket */
/** @typedef {import("./spotlight.js").Spotlight} Spotlight */
/** @typedef {import("../api.js").Room} Room */
/** @typedef {{theme: string} | {room: string} | {note: string}} SpotlightTarget */

/**
 * @param {HTMLElement} bar stays in place, empty while nothing is on the screen: a live region
 * @param {{socket: TableeSocket, notify: (m: string) => void, rooms: () => Room[]}} options
 *   `rooms`: the event's tables, in the console's order
 * @returns {{set: (spotlight: Spotlight | null | undefined, version?: number) => void,
 *            show: (target: SpotlightTarget) => void}} `set`: what the server says is on the
 *   screen, under which version
 */
export function mountSpotlightControl(bar, { socket, notify, rooms }) {
  const set = latestOnly((spotlight) => {
    if (!spotlight) {
      bar.replaceChildren();
      return;
    }
    const { kind, title, by } = spotlight;
    const next = kind === "room" ? nextRoom(rooms(), spotlight.id) : undefined;
    const parts = [
      h("span", { class: "spotlight-now", "data-testid": "spotlight-now",
        text: () => t(`console.spotlight.on.${kind}`, { title }) }),
      h("span", { class: "spotlight-by", text: () => t("console.spotlight.by", { name: by }) }),
      next ? h("button", { type: "button", class: "button small",
        "data-testid": "spotlight-next", text: () => t("console.spotlight.next", { name: next.name }),
        onclick: () => send({ room: next.id }, "console.spotlight.failed") }) : null,
      h("button", { type: "button", class: "button small secondary",
        "data-testid": "spotlight-clear", text: () => t("console.spotlight.clear"),
        onclick: () => send({}, "console.spotlight.clearFailed") })];
    bar.replaceChildren(...parts.filter((part) => part !== null));
  });
  /**
   * @param {SpotlightTarget | {}} payload `{}` clears the screen
   * @param {string} failed the phrase that says it did not happen
   */
  const send = (payload, failed) => {
    socket.request("spotlight.set", payload)
      .then((ack) => set(ack.payload.spotlight, ack.payload.version))
      .catch((err) => notify(t(failed, { reason: errorText(err) })));
  };
  socket.addEventListener("deleted", () => bar.replaceChildren());
  return { set, show: (target) => send(target, "console.spotlight.failed") };
}

/**
 * The table after `id` in the console's order; none after the last one, or for a table gone.
 * @param {Room[]} all
 * @param {string} id
 * @returns {Room | undefined}
 */
function nextRoom(all, id) {
  const at = all.findIndex((r) => r.id === id);
  return at < 0 ? undefined : all[at + 1];
}

/**
 * "Show on screen", wherever the console offers to put something on the plenary screen.
 * @param {() => void} onclick
 * @param {Record<string, string | boolean>} [attrs] over the defaults: a link's look, the
 *   test id "show-on-screen"
 * @returns {HTMLElement}
 */
export function showOnScreenButton(onclick, attrs = {}) {
  return h("button", { type: "button", class: "link-button", "data-testid": "show-on-screen",
    text: () => t("console.spotlight.show"), onclick, ...attrs });
}
