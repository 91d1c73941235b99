// The connection banner: live, reconnecting or offline, and how many notes wait to be sent.

import { h, speak } from "./dom.js";
import { t } from "../i18n.js";

/** @typedef {import("../socket.js").TableeSocket} TableeSocket */
/** @typedef {import("../outbox.js").Outbox} Outbox */

/** @type {Record<string, string>} what to say under the label, by state */
const HINTS = {
  reconnecting: "status.reconnectingHint",
  offline: "status.offlineHint",
};

/**
 * Render the connection status into `root` and keep it current.
 * @param {HTMLElement} root
 * @param {TableeSocket} socket
 * @param {Outbox} outbox
 */
export function mountStatus(root, socket, outbox) {
  const label = h("span", { class: "status-label", "data-testid": "connection-label" });
  const waiting = h("span", { class: "status-waiting", "data-testid": "waiting" });
  const hint = h("p", { class: "status-hint" });
  const retry = h("button", { type: "button", class: "link-button", text: () => t("status.tryNow"),
    onclick: () => socket.reconnectNow() });
  const box = h("div", { class: "status", role: "status", "aria-live": "polite",
    "data-testid": "connection" },
  h("span", { class: "status-dot", "aria-hidden": "true" }), label, waiting, retry, hint);
  root.replaceChildren(box);

  const render = () => {
    const state = socket.state;
    box.dataset.state = state;
    speak(label, () => t(`status.${state}`));
    const n = outbox.size;
    waiting.hidden = n === 0;
    speak(waiting, () => (n ? t("status.waiting", { n }) : ""));
    retry.hidden = state !== "reconnecting";
    speak(hint, () => (state in HINTS ? t(HINTS[state]) : ""));
    hint.hidden = !(state in HINTS);
  };
  socket.addEventListener("status", render);
  outbox.subscribe(render);
  render();
}
