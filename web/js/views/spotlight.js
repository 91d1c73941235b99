// What a facilitator has put on the plenary screen: a theme, one table's notes or one note.
// The projector shows it large; every phone shows it too, compact, because the tables that
// take part online must see what the hall sees. Notes are people's words: text nodes only.

import { t } from "../i18n.js";
import { h } from "./dom.js";

/**
 * @typedef {{id: string, text: string, room_id: string, room: string, likes: number}} SpotNote
 * @typedef {{kind: "theme" | "room" | "note", id: string, title: string, notes: SpotNote[],
 *            size: number | null, rooms: number | null, of_rooms: number | null,
 *            by: string, set_at: string}} Spotlight
 */

/**
 * Draw `spotlight` into `root`, or empty `root` when the screen was cleared. `root` itself
 * stays in place: on a phone it is the live region that says what came on the screen.
 * @param {HTMLElement} root
 * @param {Spotlight | null} spotlight
 * @param {{big?: boolean}} [options] `big`: the projector's size, read from the back of a hall
 */
export function renderSpotlight(root, spotlight, { big = false } = {}) {
  if (!spotlight) {
    root.replaceChildren();
    return;
  }
  const kind = t(`spotlight.kind.${spotlight.kind}`);
  const meta = metaLine(spotlight);
  const notes = spotlight.notes.length
    ? h("ul", { class: "spotlight-notes" },
      ...spotlight.notes.map((n) => spotlightNote(n, spotlight.kind === "theme")))
    : null;
  const attrs = { class: `spotlight${big ? " big" : ""}`, "data-testid": "spotlight",
    "data-kind": spotlight.kind, "aria-labelledby": "spotlight-title" };
  if (big) {
    root.replaceChildren(h("section", attrs, h("p", { class: "spotlight-kind", text: kind }),
      title(spotlight.title),
      meta && h("p", { class: "spotlight-meta", "data-testid": "spotlight-meta", text: meta }),
      notes));
    return;
  }
  // On a phone it sits above the table's own wall: one may fold it away, and it stays folded
  // while the same choice is only re-sent (a note in it edited), until the next one comes.
  const shown = `${spotlight.kind}:${spotlight.id}:${spotlight.set_at}`;
  const details = /** @type {HTMLDetailsElement} */ (h("details", {
    open: root.dataset.folded !== shown,
    ontoggle: () => { root.dataset.folded = details.open ? "" : shown; } },
  h("summary", {}, title(t("spotlight.onScreen", { title: spotlight.title }))),
  h("p", { class: "spotlight-meta", "data-testid": "spotlight-meta",
    text: [kind, meta].filter(Boolean).join(" · ") }),
  notes));
  root.replaceChildren(h("section", attrs, details));
}

/**
 * @param {string} text
 * @returns {HTMLElement}
 */
function title(text) {
  return h("h2", { id: "spotlight-title", class: "spotlight-title",
    "data-testid": "spotlight-title", text });
}

/**
 * @param {SpotNote} note
 * @param {boolean} named whether to say its table (a theme's notes come from several)
 * @returns {HTMLElement}
 */
function spotlightNote(note, named) {
  const from = [named ? note.room : "", note.likes > 0 ? t("note.likes", { n: note.likes }) : ""]
    .filter(Boolean).join(" · ");
  return h("li", { class: "spotlight-note", "data-testid": "spotlight-note",
    "data-note-id": note.id },
  h("p", { class: "spotlight-text", text: note.text }),
  from ? h("p", { class: "spotlight-from", text: from }) : null);
}

/**
 * "14 notes · from 5 of 12 tables" (or "from every table") for a theme, "6 of 23 notes, most
 * liked first" for a table, nothing for one note (its table is the title).
 * @param {Spotlight} s
 * @returns {string}
 */
export function metaLine(s) {
  const shown = s.notes.length;
  const size = s.size ?? shown;
  if (s.kind === "theme") {
    return [t("spotlight.notes", { n: size }), tablesLine(s.rooms ?? 0, s.of_rooms ?? 0)]
      .filter(Boolean).join(" · ");
  }
  if (s.kind === "room") {
    if (!size) return t("spotlight.noNotes");
    return size > shown ? t("spotlight.mostLiked", { n: shown, total: size })
      : t("spotlight.notes", { n: size });
  }
  return "";
}

/**
 * @param {number} n the tables a theme was raised at
 * @param {number} total the tables it could have been raised at, 0 when not known
 * @returns {string} "from 5 of 12 tables", "from every table", "from 5 tables", or ""
 */
function tablesLine(n, total) {
  if (!n) return "";
  if (total <= 1) return t("spotlight.tables", { n });
  return n >= total ? t("spotlight.everyTable") : t("spotlight.tablesOf", { n, total });
}

/**
 * Draw only what is newer than what was drawn: two server processes may deliver two
 * facilitators' choices in either order, and each change of the screen carries a higher
 * version (none: draw it).
 * @param {(spotlight: Spotlight | null) => void} draw
 * @returns {(spotlight: Spotlight | null | undefined, version?: number) => void}
 */
export function latestOnly(draw) {
  let seen = -Infinity;
  return (spotlight, version) => {
    if (typeof version === "number") {
      if (version < seen) return;
      seen = version;
    }
    draw(spotlight ?? null);
  };
}
