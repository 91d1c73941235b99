// The facilitator's themes panel, redrawn from each `themes.snapshot`.

import { h, plural } from "./dom.js";

/**
 * @typedef {{id: string, text: string, room_id: string}} NoteRef
 * @typedef {{id: string, label: string, keywords: string[], size: number, note_ids: string[],
 *            representatives: NoteRef[], rooms: {id: string, count: number}[]}} Theme
 * @typedef {{version: number, n_notes: number, themes: Theme[], unthemed: NoteRef[]}} Themes
 */

/**
 * @param {HTMLElement} root
 * @param {Themes | null} themes null: nothing received yet
 * @param {(roomId: string) => string} roomName
 */
export function renderThemes(root, themes, roomName) {
  if (!themes) {
    root.replaceChildren(h("p", { class: "muted", text: "Waiting for the first notes…" }));
    return;
  }
  const counts = `${plural(themes.themes.length, "theme", "themes")} from `
    + plural(themes.n_notes, "note", "notes");
  const summary = h("p", { class: "muted", "data-testid": "themes-summary", text: counts });
  const list = h("ol", { class: "themes", "data-testid": "themes" },
    ...themes.themes.map((t) => themeCard(t, roomName)));
  const unthemed = themes.unthemed || [];
  const rest = h("section", { class: "unthemed", "aria-label": "Notes without a theme" },
    h("h3", { text: `Unthemed (${unthemed.length})` }),
    unthemed.length
      ? h("ul", { class: "quotes", "data-testid": "unthemed" },
        ...unthemed.map((n) => quote(n, roomName)))
      : h("p", { class: "muted", text: "Every note belongs to a theme." }));
  const none = h("p", { class: "muted",
    text: "No theme yet: themes appear once several notes say similar things." });
  root.replaceChildren(summary, themes.themes.length ? list : none, rest);
}

/**
 * @param {Theme} t
 * @param {(roomId: string) => string} roomName
 * @returns {HTMLElement}
 */
function themeCard(t, roomName) {
  return h("li", { class: "theme", "data-theme-id": t.id },
    h("div", { class: "row spread" },
      h("h3", { class: "theme-label", text: t.label }),
      h("span", { class: "badge", text: plural(t.size, "note", "notes") })),
    t.keywords?.length
      ? h("ul", { class: "keywords", "aria-label": "Keywords" },
        ...t.keywords.map((k) => h("li", { text: k })))
      : null,
    h("ul", { class: "quotes", "aria-label": "Representative notes" },
      ...(t.representatives || []).map((n) => quote(n, roomName))),
    t.rooms?.length
      ? h("p", { class: "theme-rooms muted",
        text: "From " + t.rooms.map((r) => `${roomName(r.id)} (${r.count})`).join(", ") })
      : null);
}

/**
 * @param {NoteRef} n
 * @param {(roomId: string) => string} roomName
 * @returns {HTMLElement}
 */
function quote(n, roomName) {
  return h("li", { class: "quote" }, h("q", { text: n.text }),
    h("span", { class: "quote-room muted", text: roomName(n.room_id) }));
}
