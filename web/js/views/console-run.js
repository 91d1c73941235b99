// The console's side panel for running the event: broadcast to every room or one, the tables
// calling for help, open-space topics to accept, and the plenary screen's link.

import { errorText, t } from "../i18n.js";
import { ago, h, speak } from "./dom.js";

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
    "aria-label": () => t("console.broadcast.to") }));
  const text = /** @type {HTMLTextAreaElement} */ (h("textarea", { id: "broadcast-text",
    rows: "2", maxlength: "300", required: true,
    placeholder: () => t("console.broadcast.placeholder") }));
  const sent = h("ul", { class: "sent muted small",
    "aria-label": () => t("console.broadcast.sent") });
  /** @param {string} id @returns {string} */
  const roomName = (id) => rooms().find((r) => r.id === id)?.name ?? t("plenary.aTable");
  const form = /** @type {HTMLFormElement} */ (h("form", { class: "stack",
    "aria-label": () => t("console.broadcast.form"), onsubmit: (/** @type {SubmitEvent} */ ev) => {
      ev.preventDefault();
      const message = text.value.trim();
      if (!message) return;
      /** @type {Record<string, string>} */
      const payload = { text: message };
      if (target.value) payload.room = target.value;
      socket.request("broadcast.send", payload).then((ack) => {
        const b = ack.payload.broadcast;
        sent.prepend(h("li", { text: () => (b.room
          ? t("console.broadcast.sentTo", { table: roomName(b.room), text: b.text })
          : t("console.broadcast.sentToAll", { text: b.text })) }));
        text.value = "";
      }).catch((err) => notify(t("console.broadcast.failed", { reason: errorText(err) })));
    } },
  h("label", { class: "label", for: "broadcast-text", text: () => t("console.broadcast.label") }),
  text,
  h("div", { class: "row" }, target,
    h("button", { type: "submit", class: "button small",
      text: () => t("console.broadcast.send") }))));
  roots.broadcast.replaceChildren(form, sent);
  const roomsChanged = () => {
    const chosen = target.value;
    target.replaceChildren(h("option", { value: "", text: () => t("console.broadcast.toAll") }),
      ...rooms().map((r) => h("option", { value: r.id,
        text: () => t("console.broadcast.toRoom", { table: r.name }) })));
    target.value = rooms().some((r) => r.id === chosen) ? chosen : "";
  };
  roomsChanged();

  // Help ----------------------------------------------------------------------------------
  const renderHelp = () => {
    const calls = [...state.help.values()];
    roots.help.replaceChildren(h("h3", { text: calls.length
      ? t("console.help.count", { n: calls.length }) : t("console.help.none") }),
    ...calls.map((c) => h("p", { class: "help-line" },
      h("strong", { text: roomName(c.room) }),
      ` · ${helpCall(c.by.pseudonym, c.text, c.raised_at)} `,
      h("button", { type: "button", class: "link-button", text: t("console.help.handled"),
        onclick: () => socket.request("help.resolve", { room: c.room })
          .catch((err) => notify(errorText(err))) }))));
    roots.help.classList.toggle("alerting", calls.length > 0);
  };

  // Topics --------------------------------------------------------------------------------
  const renderTopics = () => {
    const topics = [...state.topics.values()];
    const waiting = topics.filter((topic) => topic.status === "proposed");
    roots.topics.hidden = !topics.length && !state.step?.topics;
    roots.topics.replaceChildren(
      h("h3", { text: t("console.topics.heading", { n: waiting.length }) }),
      h("ul", { class: "topics", "data-testid": "topics" }, ...topics.map(topicItem)));
  };
  /** @param {Topic} topic @returns {HTMLElement} */
  const topicItem = (topic) => {
    const decide = (/** @type {boolean} */ accept) => socket.request("topic.decide",
      { topic: topic.id, accept, capacity: 20 }).catch((err) => notify(errorText(err)));
    return h("li", { class: `topic ${topic.status}` },
      h("span", { text: `${topic.title} · ${topic.by.pseudonym}` }),
      topic.status === "proposed"
        ? h("span", { class: "row" },
          h("button", { type: "button", class: "button small", text: t("console.topics.open"),
            onclick: () => decide(true) }),
          h("button", { type: "button", class: "link-button danger",
            text: t("console.topics.decline"), onclick: () => decide(false) }))
        : h("span", { class: "muted small", text: t(`console.topics.${topic.status}`) }));
  };

  // Plenary screen -----------------------------------------------------------------------
  const link = h("a", { target: "_blank", rel: "noopener", "data-testid": "screen-link" });
  const open = h("button", { type: "button", class: "button small secondary",
    text: () => t("console.screen.open"), onclick: () => {
      socket.request("observer.invite", {}).then((ack) => {
        const params = new URLSearchParams({ code, token: ack.payload.token });
        const url = `${location.origin}/plenary.html#${params}`;
        link.setAttribute("href", url);
        speak(link, () => t("console.screen.link"));
        window.open(url, "_blank", "noopener");
      }).catch((err) => notify(t("console.screen.failed", { reason: errorText(err) })));
    } });
  const cards = h("a", { class: "small", href: `/cards.html#code=${encodeURIComponent(code)}`,
    target: "_blank", rel: "noopener", text: () => t("console.screen.cards") });
  roots.screen.replaceChildren(open, h("p", { class: "small" }, link), h("p", {}, cards));

  state.subscribe(() => {
    renderHelp();
    renderTopics();
  });
  renderHelp();
  renderTopics();
  return { roomsChanged };
}

/**
 * @param {string} who
 * @param {string} said what they wrote with their call, or ""
 * @param {string} at when they called
 * @returns {string} "Ana: “we are stuck” · 3 min ago"
 */
export function helpCall(who, said, at) {
  return said ? t("console.help.callSaid", { who, text: said, ago: ago(at) })
    : t("console.help.call", { who, ago: ago(at) });
}
