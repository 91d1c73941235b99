// The console's side panel for running the event: broadcast to every room or one, the tables
// calling for help, open-space topics to accept, and the plenary screen's link.

import { ago } from "../event-state.js";
import { h, plural } from "./dom.js";

/** @typedef {import("../socket.js").TableeSocket} TableeSocket */
/** @typedef {import("../event-state.js").EventState} EventState */
/** @typedef {import("../event-state.js").Topic} Topic */
/** @typedef {import("../api.js").Room} Room */

/**
 * @param {{broadcast: HTMLElement, help: HTMLElement, topics: HTMLElement, screen: HTMLElement}}
 *   roots
 * @param {{socket: TableeSocket, state: EventState, notify: (m: string) => void,
 *          rooms: () => Room[], code: string}} options
 * @returns {{roomsChanged: () => void}}
 */
export function mountRunPanel(roots, { socket, state, notify, rooms, code }) {
  // Broadcast ----------------------------------------------------------------------------
  const target = /** @type {HTMLSelectElement} */ (h("select", { id: "broadcast-room",
    "aria-label": "Send to" }));
  const text = /** @type {HTMLTextAreaElement} */ (h("textarea", { id: "broadcast-text",
    rows: "2", maxlength: "300", required: true,
    placeholder: "e.g. Five minutes left: agree on your main idea" }));
  const sent = h("ul", { class: "sent muted small", "aria-label": "Sent" });
  const form = /** @type {HTMLFormElement} */ (h("form", { class: "stack",
    "aria-label": "Send a broadcast", onsubmit: (/** @type {SubmitEvent} */ ev) => {
      ev.preventDefault();
      const message = text.value.trim();
      if (!message) return;
      /** @type {Record<string, string>} */
      const payload = { text: message };
      if (target.value) payload.room = target.value;
      socket.request("broadcast.send", payload).then((ack) => {
        const b = ack.payload.broadcast;
        const to = b.room ? rooms().find((r) => r.id === b.room)?.name ?? "a table" : "everyone";
        sent.prepend(h("li", { text: `To ${to}: ${b.text}` }));
        text.value = "";
      }).catch((err) => notify(`Not sent: ${err.message}`));
    } },
  h("label", { class: "label", for: "broadcast-text", text: "Broadcast" }), text,
  h("div", { class: "row" }, target,
    h("button", { type: "submit", class: "button small", text: "Send" }))));
  roots.broadcast.replaceChildren(form, sent);
  const roomsChanged = () => {
    const chosen = target.value;
    target.replaceChildren(h("option", { value: "", text: "To every room" }),
      ...rooms().map((r) => h("option", { value: r.id, text: `To ${r.name}` })));
    target.value = rooms().some((r) => r.id === chosen) ? chosen : "";
  };
  roomsChanged();

  // Help ----------------------------------------------------------------------------------
  const renderHelp = () => {
    const calls = [...state.help.values()];
    const name = (/** @type {string} */ id) => rooms().find((r) => r.id === id)?.name ?? "A table";
    roots.help.replaceChildren(h("h3", { text: calls.length
      ? `Help needed (${calls.length})` : "No table needs help" }),
    ...calls.map((c) => h("p", { class: "help-line" },
      h("strong", { text: name(c.room) }),
      ` · ${c.by.pseudonym}${c.text ? `: “${c.text}”` : ""} · ${ago(c.raised_at)} `,
      h("button", { type: "button", class: "link-button", text: "Handled",
        onclick: () => socket.request("help.resolve", { room: c.room })
          .catch((err) => notify(err.message)) }))));
    roots.help.classList.toggle("alerting", calls.length > 0);
  };

  // Topics --------------------------------------------------------------------------------
  const renderTopics = () => {
    const topics = [...state.topics.values()];
    const waiting = topics.filter((t) => t.status === "proposed");
    roots.topics.hidden = !topics.length && !state.step?.topics;
    roots.topics.replaceChildren(
      h("h3", { text: `Topics proposed: ${plural(waiting.length, "waiting", "waiting")}` }),
      h("ul", { class: "topics", "data-testid": "topics" }, ...topics.map((t) => topicItem(t))));
  };
  /** @param {Topic} t @returns {HTMLElement} */
  const topicItem = (t) => {
    const decide = (/** @type {boolean} */ accept) => socket.request("topic.decide",
      { topic: t.id, accept, capacity: 20 }).catch((err) => notify(err.message));
    return h("li", { class: `topic ${t.status}` },
      h("span", { text: `${t.title} · ${t.by.pseudonym}` }),
      t.status === "proposed"
        ? h("span", { class: "row" },
          h("button", { type: "button", class: "button small", text: "Open a room",
            onclick: () => decide(true) }),
          h("button", { type: "button", class: "link-button danger", text: "Decline",
            onclick: () => decide(false) }))
        : h("span", { class: "muted small", text: t.status }));
  };

  // Plenary screen -----------------------------------------------------------------------
  const link = h("a", { target: "_blank", rel: "noopener", "data-testid": "screen-link" });
  const open = h("button", { type: "button", class: "button small secondary",
    text: "Open a plenary screen", onclick: () => {
      socket.request("observer.invite", {}).then((ack) => {
        const params = new URLSearchParams({ code, token: ack.payload.token });
        const url = `${location.origin}/plenary.html#${params}`;
        link.setAttribute("href", url);
        link.textContent = "Plenary screen link (for the projector)";
        window.open(url, "_blank", "noopener");
      }).catch((err) => notify(`No screen: ${err.message}`));
    } });
  const cards = h("a", { class: "small", href: `/cards.html#code=${encodeURIComponent(code)}`,
    target: "_blank", rel: "noopener", text: "Print table cards (QR codes for the hall)" });
  roots.screen.replaceChildren(open, h("p", { class: "small" }, link), h("p", {}, cards));

  state.subscribe(() => {
    renderHelp();
    renderTopics();
  });
  renderHelp();
  renderTopics();
  return { roomsChanged };
}
