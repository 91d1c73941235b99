// The facilitator's themes panel, redrawn from each update of the themes (and patched by each
// `themes.assigned` in between); with `steer`, a facilitator can rename, merge, split and
// hide themes from it, and with `show` put one on the plenary screen.

import { showOnScreenButton } from "./console-spotlight.js";
import { h } from "./dom.js";
import { t as say } from "../i18n.js";
import { growthChart, themeColour, themeMap } from "./theme_map.js";

/**
 * @typedef {{id: string, text: string, room_id: string, distinctness?: number}} NoteRef
 * @typedef {{id: string, label: string, keywords: string[], size: number, note_ids: string[],
 *            representatives: NoteRef[], rooms: {id: string, count: number}[],
 *            steps?: {id: string, count: number}[],
 *            single_room?: boolean, renamed?: boolean, hidden?: boolean,
 *            split_from?: string | null, recent?: number, growth?: number[]}} Theme
 * @typedef {{version: number, n_notes: number, n_rooms?: number, themes: Theme[],
 *            unthemed: NoteRef[], map?: Record<string, number[]>,
 *            lineage?: {version: number, kind: string, theme: string, other: string}[]}} Themes
 * @typedef {(type: string, payload: Record<string, unknown>) => void} Steer
 */

/**
 * @param {HTMLElement} root
 * @param {Themes | null} themes null: nothing received yet
 * @param {(roomId: string) => string} roomName
 * @param {{steer?: Steer, show?: (themeId: string) => void, showNote?: (noteId: string) => void,
 *          roomCount?: number, stepName?: (stepId: string) => string,
 *          focusStep?: string | null}} [options]
 *   `show`, `showNote`: put a theme, or one of the notes quoted (a unique idea among them), on
 *   the plenary screen
 *   `stepName`: with it, each theme says in which agenda steps its notes were written, once
 *   the themes' notes come from more than one step; `focusStep`: the themes written in that
 *   step come first, by their notes in it, and the others are folded away
 */
export function renderThemes(root, themes, roomName, options = {}) {
  if (!themes) {
    root.replaceChildren(h("p", { class: "muted", text: say("themes.waiting") }));
    return;
  }
  const rooms = options.roomCount || themes.n_rooms || 0;
  const counts = say("themes.fromNotes",
    { themes: say("themes.count", { n: themes.themes.length }), n: themes.n_notes });
  const summary = h("p", { class: "muted", "data-testid": "themes-summary", text: counts });
  const labels = new Map(themes.themes.map((t) => [t.id, t.label]));
  const stepName = options.stepName;
  const stepIds = new Set(themes.themes.flatMap((t) => (t.steps || []).map((s) => s.id)));
  /** @type {(t: Theme) => string} */
  const written = (t) => (stepName && stepIds.size > 1 && t.steps?.length
    ? say("themes.writtenIn",
      { steps: t.steps.map((s) => `${stepName(s.id)} (${s.count})`).join(", ") })
    : "");
  const visible = themes.themes.filter((t) => !t.hidden);
  const hidden = themes.themes.filter((t) => t.hidden);
  const focus = options.focusStep && stepIds.size > 1 ? options.focusStep : null;
  /** @type {(t: Theme) => number} */
  const inFocus = (t) => (focus ? t.steps?.find((s) => s.id === focus)?.count ?? 0 : 0);
  // A stable sort: within the step, and among the others, the board's own order stays.
  const ranked = focus ? [...visible].sort((a, b) => inFocus(b) - inFocus(a)) : visible;
  const shown = focus ? ranked.filter((t) => inFocus(t) > 0) : ranked;
  const elsewhere = focus ? ranked.filter((t) => inFocus(t) === 0) : [];
  /** @type {(t: Theme) => HTMLElement} */
  const card = (t) => themeCard(t, themes.themes.indexOf(t), themes.themes, labels, rooms,
    roomName, written(t), inFocus(t), options);
  if (focus) {
    summary.append(" · ", say("themes.inStep", { themes: say("themes.count", { n: shown.length }),
      step: stepName?.(focus) ?? say("themes.thisStep") }));
  }
  const list = h("ol", { class: "themes", "data-testid": "themes" }, ...shown.map(card));
  const otherSteps = elsewhere.length
    ? h("details", { class: "other-step-themes", "data-testid": "other-step-themes" },
      h("summary", { text: say("themes.otherSteps", { n: elsewhere.length }) }),
      h("ol", { class: "themes" }, ...elsewhere.map(card)))
    : null;
  const rest = uniqueIdeas(root, themes.unthemed || [], roomName, options.showNote);
  const none = h("p", { class: "muted", text: say("themes.none") });
  const hiddenList = hidden.length
    ? h("details", { class: "hidden-themes" },
      h("summary", { text: say("themes.hidden", { n: hidden.length }) }),
      h("ul", {}, ...hidden.map((t) => h("li", {},
        h("span", { text: `${t.label} (${t.size}) ` }),
        options.steer
          ? h("button", { type: "button", class: "link", text: say("themes.show"),
            onclick: () => options.steer?.("themes.hide", { theme: t.id, hidden: false }) })
          : null))))
    : null;
  const map = themes.map && Object.keys(themes.map).length ? themeMap(themes) : null;
  root.replaceChildren(summary, map, themes.themes.length ? list : none, otherSteps, hiddenList,
    rest);
}

// Unique ideas shown at first, and how many more each "Show more" adds: a large event has
// thousands, most distinct first, and the panel is redrawn at every update.
const UNIQUE_FIRST = 50;
const UNIQUE_MORE = 200;
/** @type {WeakMap<HTMLElement, number>} how many unique ideas each panel shows */
const uniqueShown = new WeakMap();

/**
 * @param {HTMLElement} root the themes panel
 * @param {NoteRef[]} unthemed most distinct first
 * @param {(roomId: string) => string} roomName
 * @param {(noteId: string) => void} [showNote]
 * @returns {HTMLElement}
 */
function uniqueIdeas(root, unthemed, roomName, showNote) {
  const section = h("section", { class: "unthemed", "aria-label": say("themes.unique") },
    h("h3", { text: say("themes.uniqueCount", { n: unthemed.length }) }));
  if (!unthemed.length) {
    section.append(h("p", { class: "muted", text: say("themes.allThemed") }));
    return section;
  }
  const list = h("ul", { class: "quotes", "data-testid": "unthemed" });
  section.append(list);
  const fill = () => {
    const shown = Math.min(unthemed.length, uniqueShown.get(root) || UNIQUE_FIRST);
    list.append(...unthemed.slice(list.childElementCount, shown)
      .map((n) => quote(n, roomName, showNote)));
    const left = unthemed.length - shown;
    section.querySelector(".more")?.remove();
    if (left > 0) {
      section.append(h("button", { type: "button", class: "link more",
        text: say("themes.showMore", { more: Math.min(left, UNIQUE_MORE), left }),
        onclick: () => {
          uniqueShown.set(root, shown + UNIQUE_MORE);
          fill();
        } }));
    }
  };
  fill();
  return section;
}

/**
 * @param {Theme} t
 * @param {number} index its position, which sets its colour on the map
 * @param {Theme[]} all
 * @param {Map<string, string>} labels
 * @param {number} rooms rooms that wrote notes
 * @param {(roomId: string) => string} roomName
 * @param {string} when the agenda steps its notes were written in, or ""
 * @param {number} inStep its notes written in the step in focus
 * @param {{steer?: Steer, show?: (themeId: string) => void, showNote?: (noteId: string) => void}}
 *   tools the facilitator's, if any
 * @returns {HTMLElement}
 */
function themeCard(t, index, all, labels, rooms, roomName, when, inStep,
  { steer, show, showNote }) {
  const colour = themeColour(index);
  const from = t.rooms?.length
    ? `${tablesOf(t.rooms.length, rooms)}: `
      + t.rooms.map((r) => `${roomName(r.id)} (${r.count})`).join(", ")
    : "";
  const flags = [
    inStep ? h("span", { class: "badge", text: say("themes.stepCount", { n: inStep }) }) : null,
    t.single_room ? h("span", { class: "badge warn", text: say("themes.oneTable") }) : null,
    t.recent ? h("span", { class: "badge", text: say("themes.recent", { n: t.recent }) }) : null,
    t.renamed ? h("span", { class: "badge muted", text: say("themes.renamed") }) : null,
  ];
  return h("li", { class: "theme", "data-theme-id": t.id, style: `border-left: 4px solid ${colour}` },
    h("div", { class: "row spread" },
      h("h3", { class: "theme-label", text: t.label }),
      h("span", { class: "badge", text: say("themes.notes", { n: t.size }) })),
    h("div", { class: "row" }, ...flags, growthChart(t.growth || [], colour)),
    t.split_from
      ? h("p", { class: "muted lineage", text: say("themes.splitFrom",
        { label: labels.get(t.split_from) || say("themes.earlierTheme") }) })
      : null,
    t.keywords?.length
      ? h("ul", { class: "keywords", "aria-label": say("themes.keywords") },
        ...t.keywords.map((k) => h("li", { text: k })))
      : null,
    h("ul", { class: "quotes", "aria-label": say("themes.representatives") },
      ...(t.representatives || []).map((n) => quote(n, roomName, showNote))),
    from ? h("p", { class: "theme-rooms muted", text: from }) : null,
    when ? h("p", { class: "theme-steps muted", text: when }) : null,
    show ? showOnScreenButton(() => show(t.id), { class: "button small secondary theme-show" })
      : null,
    steer ? steering(t, all, steer) : null);
}

/**
 * "3 tables of 12", or "3 tables" when the number of tables is not known.
 * @param {number} n
 * @param {number} rooms
 * @returns {string}
 */
function tablesOf(n, rooms) {
  const tables = say("themes.tables", { n });
  return rooms ? say("themes.tablesOf", { tables, rooms }) : tables;
}

/**
 * @param {Theme} t
 * @param {Theme[]} all
 * @param {Steer} steer
 */
function steering(t, all, steer) {
  const others = all.filter((o) => o.id !== t.id && !o.hidden);
  const merge = h("select", { "aria-label": say("console.themes.mergeLabel", { label: t.label }),
    onchange: (/** @type {Event} */ ev) => {
      const into = /** @type {HTMLSelectElement} */ (ev.target).value;
      if (into) steer("themes.merge", { theme: t.id, into });
    } },
  h("option", { value: "", text: say("console.themes.merge") }),
  ...others.map((o) => h("option", { value: o.id, text: o.label })));
  return h("div", { class: "row steer" },
    h("button", { type: "button", class: "link", text: say("console.themes.rename"),
      onclick: () => {
        const label = window.prompt(say("console.themes.renamePrompt"), t.label);
        if (label && label.trim()) steer("themes.rename", { theme: t.id, label: label.trim() });
      } }),
    h("button", { type: "button", class: "link", text: say("console.themes.split"),
      onclick: () => steer("themes.split", { theme: t.id }) }),
    h("button", { type: "button", class: "link", text: say("console.themes.hide"),
      onclick: () => steer("themes.hide", { theme: t.id, hidden: true }) }),
    others.length ? merge : null);
}

/**
 * The themes with one note placed by `themes.assigned`, until the next snapshot: its theme
 * grows, and counts it at its table and in its step, so "3 tables" and "Themes here" follow.
 * @param {Themes} themes
 * @param {{note: string, theme: string | null, xy: number[] | null, text: string,
 *          room_id: string, step_id?: string | null}} placed
 * @returns {Themes}
 */
export function withPlacement(themes, placed) {
  const known = themes.themes.some((t) => t.note_ids.includes(placed.note))
    || themes.unthemed.some((n) => n.id === placed.note);
  if (known) return themes;
  const map = { ...(themes.map || {}) };
  if (placed.xy) map[placed.note] = placed.xy;
  const note = { id: placed.note, text: placed.text, room_id: placed.room_id };
  const target = themes.themes.find((t) => t.id === placed.theme);
  return {
    ...themes,
    n_notes: themes.n_notes + 1,
    map,
    themes: themes.themes.map((t) => (t === target ? placedIn(t, placed) : t)),
    unthemed: target ? themes.unthemed : [note, ...themes.unthemed],
  };
}

/**
 * @param {{id: string, count: number}[]} counts
 * @param {string} id
 * @returns {{id: string, count: number}[]} one more for `id`
 */
function bump(counts, id) {
  return counts.some((c) => c.id === id)
    ? counts.map((c) => (c.id === id ? { ...c, count: c.count + 1 } : c))
    : [...counts, { id, count: 1 }];
}

/**
 * @param {Theme} t
 * @param {{note: string, room_id: string, step_id?: string | null}} placed
 * @returns {Theme}
 */
function placedIn(t, placed) {
  const rooms = bump(t.rooms || [], placed.room_id);
  return {
    ...t,
    size: t.size + 1,
    note_ids: [...t.note_ids, placed.note],
    recent: (t.recent || 0) + 1,
    rooms,
    single_room: Boolean(t.single_room) && rooms.length === 1,
    ...(placed.step_id ? { steps: bump(t.steps || [], placed.step_id) } : {}),
  };
}

/**
 * @param {NoteRef} n
 * @param {(roomId: string) => string} roomName
 * @param {(noteId: string) => void} [showNote]
 * @returns {HTMLElement}
 */
function quote(n, roomName, showNote) {
  return h("li", { class: "quote" }, h("q", { text: n.text }),
    h("span", { class: "quote-room muted" }, roomName(n.room_id),
      showNote ? showOnScreenButton(() => showNote(n.id),
        { class: "link-button quote-show", "data-testid": "show-note-on-screen" }) : null));
}

/**
 * What each table is talking about, from the event's themes: per room, its visible themes
 * with the notes it gave each (most first), and its unique ideas.
 * @param {Themes} themes
 * @returns {Map<string, {themes: {label: string, count: number}[], unique: number}>}
 */
export function themesByRoom(themes) {
  /** @type {Map<string, {themes: {label: string, count: number}[], unique: number}>} */
  const out = new Map();
  const of = (/** @type {string} */ room) => {
    let entry = out.get(room);
    if (!entry) out.set(room, entry = { themes: [], unique: 0 });
    return entry;
  };
  for (const t of themes.themes) {
    if (t.hidden) continue;
    for (const r of t.rooms || []) of(r.id).themes.push({ label: t.label, count: r.count });
  }
  for (const n of themes.unthemed || []) of(n.room_id).unique += 1;
  for (const entry of out.values()) entry.themes.sort((a, b) => b.count - a.count);
  return out;
}

const ROOM_THEMES_SHOWN = 3;

/**
 * The line on a table's card: its three largest themes there, then how many more, and its
 * unique ideas.
 * @param {{themes: {label: string, count: number}[], unique: number} | undefined} entry
 * @returns {string}
 */
export function roomThemesLine(entry) {
  if (!entry || (!entry.themes.length && !entry.unique)) return "";
  const parts = entry.themes.slice(0, ROOM_THEMES_SHOWN).map((t) => `${t.label} (${t.count})`);
  const more = entry.themes.length - ROOM_THEMES_SHOWN;
  if (more > 0) parts.push(say("console.themes.more", { n: more }));
  if (entry.unique) parts.push(say("console.themes.uniqueIdeas", { n: entry.unique }));
  return say("console.themes.here", { themes: parts.join(" · ") });
}
