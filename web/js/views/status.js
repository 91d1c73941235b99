// The connection banner: live, reconnecting or offline, and how many notes wait to be sent.

import { h, plural } from "./dom.js";

/** @typedef {import("../socket.js").TableeSocket} TableeSocket */
/** @typedef {import("../outbox.js").Outbox} Outbox */

const LABELS = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Connection lost, reconnecting…",
  offline: "Offline",
  closed: "Disconnected",
};

const HINTS = {
  connecting: "",
  open: "",
  reconnecting: "Keep typing: your notes are kept and sent as soon as the connection is back.",
  offline: "Keep typing: your notes are kept on this device and sent when you are back online.",
  closed: "",
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
  const retry = h("button", { type: "button", class: "link-button", text: "Try now",
    onclick: () => socket.reconnectNow() });
  const box = h("div", { class: "status", role: "status", "aria-live": "polite",
    "data-testid": "connection" },
  h("span", { class: "status-dot", "aria-hidden": "true" }), label, waiting, retry, hint);
  root.replaceChildren(box);

  const render = () => {
    const state = socket.state;
    box.dataset.state = state;
    label.textContent = LABELS[state] ?? state;
    const n = outbox.size;
    waiting.hidden = n === 0;
    waiting.textContent = n ? plural(n, "note waiting to be sent", "notes waiting to be sent") : "";
    retry.hidden = state !== "reconnecting";
    hint.textContent = HINTS[state] ?? "";
    hint.hidden = !hint.textContent;
  };
  socket.addEventListener("status", render);
  outbox.subscribe(render);
  render();
}
