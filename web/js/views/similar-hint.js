// The duplicate hint under a note its author has just posted, when the event already holds
// one very close to it (`note.similar`). In an assembly of hundreds, ten copies of one idea
// bury the others; a +1 on the first keeps the wall readable and still counts the voice.
// The note is already posted: the hint only offers, and goes away by itself.

import { h } from "./dom.js";
import { t } from "../i18n.js";

/** How long the hint stays when nobody touches it. */
export const HINT_MS = 20000;
// The text of the other note is quoted, not shown whole: the hint must stay small on a phone.
const QUOTE_MAX_CHARS = 160;

/**
 * @typedef {{id: string, text: string, room_id: string, score: number, same_room: boolean}}
 *   SimilarNote
 */

/**
 * @typedef {object} HintChoice
 * @property {SimilarNote} match the note to offer
 * @property {"table" | "mine" | "elsewhere"} kind said at this table by someone else, by the
 *   author themselves, or at another table (where likes are not theirs to give)
 */

/**
 * Which of the close notes to offer: the server sends the author's own room first, closest
 * first; a note of this room that is no longer on the wall is passed over.
 * @param {SimilarNote[]} similar
 * @param {(id: string) => {author?: {id: string}} | undefined} onWall a note of this room
 * @param {string} me
 * @returns {HintChoice | null}
 */
export function chooseSimilar(similar, onWall, me) {
  for (const match of similar) {
    if (!match.same_room) return { match, kind: "elsewhere" };
    const there = onWall(match.id);
    if (!there) continue;
    return { match, kind: there.author?.id === me ? "mine" : "table" };
  }
  return null;
}

/**
 * @param {string} text
 * @returns {string} at most QUOTE_MAX_CHARS, cut at a word
 */
export function quote(text) {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= QUOTE_MAX_CHARS) return flat;
  const cut = flat.slice(0, QUOTE_MAX_CHARS);
  const space = cut.lastIndexOf(" ");
  return `${(space > QUOTE_MAX_CHARS / 2 ? cut.slice(0, space) : cut).replace(/[\s,.;:]+$/, "")}…`;
}

// Catalogue keys, by kind: where it stands, the offer, its button, and the refusal.
const WORDING = {
  table: { lead: "similar.tableLead", ask: "similar.tableAsk", take: "similar.tableTake",
    keep: "similar.keepMine" },
  mine: { lead: "similar.mineLead", ask: "similar.mineAsk", take: "similar.mineTake",
    keep: "similar.keepBoth" },
  elsewhere: { lead: "similar.elsewhereLead", ask: "", take: "", keep: "similar.keepMine" },
};

/**
 * Build the hint. `onTake` runs the offered action (a +1 and the withdrawal of the new note);
 * the hint stays, its buttons inactive, until it settles, and the caller removes it.
 * @param {HintChoice} choice
 * @param {{onTake: () => Promise<void>, onDismiss: () => void, ms?: number}} actions
 * @returns {{el: HTMLElement, dispose: () => void}}
 */
export function similarHint({ match, kind }, { onTake, onDismiss, ms = HINT_MS }) {
  const keys = WORDING[kind];
  const say = (/** @type {string} */ key) => (key ? t(key) : "");
  const words = { lead: say(keys.lead), ask: say(keys.ask), take: say(keys.take),
    keep: say(keys.keep) };
  const message = h("p", { class: "similar-text", role: "status" });
  const buttons = h("div", { class: "row wrap similar-buttons" });
  // aria-live off: the list of notes around it is live, and would read the buttons out too.
  const el = h("div", { class: "similar-hint", "data-testid": "similar-hint", "aria-live": "off",
    "data-kind": kind, "data-match": match.id }, message, buttons);

  /** @type {number | undefined} */
  let timer;
  let done = false;
  const dispose = () => {
    done = true;
    clearTimeout(timer);
  };
  const dismiss = () => {
    if (done) return;
    dispose();
    onDismiss();
  };
  // Someone reading it or about to press a button keeps it a little longer.
  const expire = () => {
    if (done) return;
    if (el.matches(":hover") || el.contains(document.activeElement)) {
      timer = setTimeout(expire, 5000);
      return;
    }
    dismiss();
  };
  timer = setTimeout(expire, ms);

  let busy = false;
  // aria-disabled rather than disabled: a disabled button loses the focus, and a keyboard
  // user would be thrown back to the top of the page.
  /** @param {boolean} on */
  const setBusy = (on) => {
    busy = on;
    for (const b of buttons.children) b.setAttribute("aria-disabled", String(on));
  };
  const keep = h("button", { type: "button", class: "button small secondary", text: words.keep,
    onclick: () => { if (!busy) dismiss(); } });
  const take = words.take ? h("button", { type: "button", class: "button small", text: words.take,
    onclick: () => {
      if (busy) return;
      setBusy(true);
      clearTimeout(timer);
      onTake().catch(() => {
        if (done) return;
        setBusy(false);
        timer = setTimeout(expire, ms);
      });
    } }) : null;
  buttons.append(...[take, keep].filter((b) => b !== null));
  el.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && !busy) dismiss();
  });

  // A live region announces what changes in it, not what it held when it appeared: the
  // words go in once it is in the page.
  setTimeout(() => {
    message.replaceChildren(words.lead, " ",
      h("span", { class: "similar-quote", text: `«${quote(match.text)}»` }), words.ask);
  }, 100);
  return { el, dispose };
}
