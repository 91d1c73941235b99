// A room's notes as cards. Cards are kept by note id and updated in place, so a note being
// edited, or a focused button, survives the live updates around it.

import { h, keepFocus, relabel, shortTime } from "./dom.js";
import { NOTE_MAX_CHARS } from "../protocol.js";
import { t } from "../i18n.js";
import { showOnScreenButton } from "./console-spotlight.js";

/** @typedef {import("../wall.js").Note} Note */
/** @typedef {Note & {pending?: boolean}} ShownNote */

/**
 * @typedef {object} NoteActions
 * @property {string} me the reader's participant id
 * @property {boolean} [moderator] may delete any note
 * @property {boolean} [canLike] show the like button as a button
 * @property {(note: Note, liked: boolean) => void} [onLike]
 * @property {(note: Note, text: string) => void} [onEdit]
 * @property {(note: Note) => void} [onDelete]
 * @property {(note: Note) => void} [onShow] put the note on the plenary screen (the console)
 */

export class NoteList {
  /**
   * @param {HTMLElement} container an empty list element (ul or ol)
   * @param {NoteActions} actions
   * @param {string | (() => string)} [emptyText] a function: in the page's language now
   */
  constructor(container, actions, emptyText = () => t("note.none")) {
    this.container = container;
    this.actions = actions;
    /** @type {Map<string, {el: HTMLElement, note: ShownNote, editing: boolean}>} */
    this.cards = new Map();
    this.empty = h("li", { class: "empty", text: emptyText });
    this.connected = true;
    /** @type {number | null} votes the reader has left in a step that counts them, else null */
    this.votesLeft = null;
    /** @type {Map<string, HTMLElement>} shown under a note, through its updates */
    this.extras = new Map();
  }

  /**
   * Show `el` under a note until detach(), e.g. the duplicate hint under one's new note.
   * @param {string} id
   * @param {HTMLElement} el
   * @returns {boolean} false when the note is not shown
   */
  attach(id, el) {
    const card = this.cards.get(id);
    if (!card) return false;
    this.detach(id);
    this.extras.set(id, el);
    if (!card.editing) card.el.append(el);
    return true;
  }

  /** @param {string} id */
  detach(id) {
    this.extras.get(id)?.remove();
    this.extras.delete(id);
  }

  /**
   * Show these notes in this order.
   * @param {ShownNote[]} notes
   */
  render(notes) {
    const seen = new Set();
    const wanted = [];
    for (const note of notes) {
      seen.add(note.id);
      let card = this.cards.get(note.id);
      if (!card) {
        card = { el: h("li", { class: "note", "data-note-id": note.id }), note, editing: false };
        this.cards.set(note.id, card);
        this.fill(card);
      } else if (!sameNote(card.note, note)) {
        card.note = note;
        if (!card.editing) this.fill(card);
      }
      wanted.push(card.el);
    }
    for (const [id, card] of this.cards) {
      if (!seen.has(id)) {
        card.el.remove();
        this.cards.delete(id);
        this.extras.delete(id);
      }
    }
    if (!wanted.length) wanted.push(this.empty);
    else this.empty.remove();
    wanted.forEach((el, i) => {
      const at = this.container.children[i];
      if (at !== el) this.container.insertBefore(el, at ?? null);
    });
  }

  /** The page speaks another language: every card and the empty list say so in it. */
  relabel() {
    for (const card of this.cards.values()) if (!card.editing) this.fill(card);
    relabel(this.empty);
  }

  /**
   * Enable or disable the buttons that need a connection (likes, deletes).
   * @param {boolean} connected
   */
  setConnected(connected) {
    if (connected === this.connected) return;
    this.connected = connected;
    for (const card of this.cards.values()) if (!card.editing) this.fill(card);
  }

  /**
   * With no votes left, only the notes one voted for keep a live button (to take a vote back).
   * @param {number | null} left null when likes are not counted
   */
  setVotesLeft(left) {
    if (left === this.votesLeft) return;
    this.votesLeft = left;
    for (const card of this.cards.values()) if (!card.editing) this.fill(card);
  }

  /** @param {{el: HTMLElement, note: ShownNote, editing: boolean}} card */
  fill(card) {
    const { note } = card;
    const a = this.actions;
    const mine = note.author?.id === a.me;
    const liked = (note.likes || []).includes(a.me);
    const count = (note.likes || []).length;
    card.el.classList.toggle("mine", mine);
    card.el.classList.toggle("pending", Boolean(note.pending));

    const author = note.author?.pseudonym ?? "";
    const edited = note.updated_at && note.updated_at !== note.created_at && !note.pending;
    const meta = h("p", { class: "note-meta" },
      h("span", { class: "note-author", text: mine ? t("note.you", { name: author }) : author }),
      // A table host types what a table in the hall agreed on.
      note.author?.role === "table_host"
        ? h("span", { class: "note-table", text: t("note.forTable") }) : null,
      h("time", { datetime: note.created_at, text: shortTime(note.created_at) }),
      edited ? h("span", { class: "note-edited", text: t("note.edited") }) : null,
      note.pending ? h("span", { class: "badge badge-waiting", text: t("note.waiting") }) : null);

    const likeLabel = t("note.likes", { n: count });
    const countEl = h("span", { class: "like-count", text: String(count) });
    const spent = this.votesLeft === 0 && !liked;
    const like = a.onLike && a.canLike !== false
      ? h("button", {
        type: "button", class: "like", "aria-pressed": String(liked), "data-testid": "like",
        "data-focus": "like",
        "aria-label": t(liked ? "note.unlike" : "note.like", { likes: likeLabel }),
        title: spent ? t("note.noVotesLeft") : undefined,
        disabled: note.pending || !this.connected || spent,
        onclick: () => a.onLike?.(note, !liked),
      }, h("span", { "aria-hidden": "true", text: liked ? "♥" : "♡" }), countEl)
      : h("span", { class: "like-static", "aria-label": likeLabel },
        h("span", { "aria-hidden": "true", text: "♥" }), countEl);

    const edit = mine && a.onEdit
      ? h("button", { type: "button", class: "link-button", text: t("note.edit"),
        "data-focus": "edit", onclick: () => this.startEdit(card) })
      : null;
    const remove = (mine || a.moderator) && a.onDelete
      ? h("button", { type: "button", class: "link-button danger", text: t("note.delete"),
        "data-focus": "delete", disabled: !this.connected && !note.pending, onclick: () => a.onDelete?.(note) })
      : null;

    // Only a note the server holds can go on the screen.
    const onShow = a.onShow;
    const show = onShow && !note.pending
      ? showOnScreenButton(() => onShow(note),
        { disabled: !this.connected, "data-focus": "show" })
      : null;

    const parts = [h("p", { class: "note-text", text: note.text }), meta,
      h("div", { class: "note-tools" }, like, edit, remove, show)];
    const extra = this.extras.get(note.id);
    // A like, an edit saved or cancelled: the focus goes back to the note's button.
    keepFocus(card.el, () => {
      if (extra?.parentNode === card.el) {
        // Left in place: moving it would drop the focus from a button in it.
        while (card.el.firstChild && card.el.firstChild !== extra) card.el.firstChild.remove();
        extra.before(...parts);
      } else {
        card.el.replaceChildren(...parts, ...(extra ? [extra] : []));
      }
    }, '[data-focus="edit"]');
  }

  /** @param {{el: HTMLElement, note: ShownNote, editing: boolean}} card */
  startEdit(card) {
    card.editing = true;
    const area = h("textarea", { class: "note-edit", rows: "3", maxlength: String(NOTE_MAX_CHARS),
      "aria-label": () => t("note.editLabel"), required: true });
    /** @type {HTMLTextAreaElement} */ (area).value = card.note.text;
    const done = () => {
      card.editing = false;
      this.fill(card);
    };
    const form = h("form", { class: "note-edit-form",
      onsubmit: (/** @type {SubmitEvent} */ ev) => {
        ev.preventDefault();
        const text = /** @type {HTMLTextAreaElement} */ (area).value.trim();
        if (text && text !== card.note.text) this.actions.onEdit?.(card.note, text);
        done();
      } },
    area,
    h("div", { class: "row" },
      h("button", { type: "submit", class: "button small", text: () => t("note.save") }),
      h("button", { type: "button", class: "link-button", text: () => t("note.cancel"),
        onclick: done })));
    card.el.replaceChildren(form);
    area.focus();
  }
}

/**
 * @param {ShownNote} a
 * @param {ShownNote} b
 * @returns {boolean}
 */
function sameNote(a, b) {
  return a.text === b.text && a.updated_at === b.updated_at
    && Boolean(a.pending) === Boolean(b.pending)
    && (a.likes || []).join() === (b.likes || []).join();
}
