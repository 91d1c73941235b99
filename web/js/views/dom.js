// A small element builder. Text always goes in as text nodes, never as HTML. Words given as a
// function are said again in the page's new language by relabel(), for a page that changes
// language in place (the console).

import { language, t } from "../i18n.js";

/**
 * @typedef {Record<string, any>} Attrs
 *   `class`, `text` (textContent), `dataset`, `on<event>` handlers, booleans such as
 *   `disabled`, anything else through setAttribute. A function for `text` or an attribute
 *   gives words in the page's language (see speak()).
 */

/** @type {WeakMap<Element, Record<string, () => string>>} each element's words, by where */
const SPOKEN = new WeakMap();

/**
 * Build an element.
 * @param {string} tag
 * @param {Attrs} [attrs]
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (typeof value === "function") speak(el, value, name);
    else if (name === "text") el.textContent = String(value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/**
 * Give `el` words in the page's language: `words()` becomes its text (or, with `where`, that
 * attribute) now, and again at each relabel().
 * @param {Element} el
 * @param {() => string} words
 * @param {string} [where] "text", or an attribute's name
 */
export function speak(el, words, where = "text") {
  const said = SPOKEN.get(el) ?? {};
  said[where] = words;
  SPOKEN.set(el, said);
  el.setAttribute("data-spoken", "");
  say(el, where, words());
}

/**
 * Say every element's words (see speak()) again, in the page's language now: those in `root`
 * and `root` itself.
 * @param {ParentNode & Node} [root]
 */
export function relabel(root = document) {
  const els = [.../** @type {NodeListOf<Element>} */ (root.querySelectorAll("[data-spoken]"))];
  if (root instanceof Element) els.unshift(root);
  for (const el of els) {
    for (const [where, words] of Object.entries(SPOKEN.get(el) ?? {})) say(el, where, words());
  }
}

/**
 * @param {Element} el
 * @param {string} where
 * @param {string} text
 */
function say(el, where, text) {
  if (where === "text") el.textContent = text;
  else el.setAttribute(where, text);
}

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el;
}

/**
 * Show one element and hide others.
 * @param {HTMLElement} shown
 * @param {...HTMLElement} hidden
 */
export function showOnly(shown, ...hidden) {
  shown.hidden = false;
  for (const el of hidden) el.hidden = true;
}

/**
 * @param {string} iso an ISO 8601 time
 * @returns {string} hours and minutes as the page's language writes them (the browser's
 *   own way on an English page)
 */
export function shortTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const lang = language();
  return d.toLocaleTimeString(lang === "en" ? [] : lang, { hour: "2-digit", minute: "2-digit" });
}

/**
 * @param {number} seconds
 * @returns {string} "20 min", "1 h 30 min", "no timer", in the page's language
 */
export function formatDuration(seconds) {
  if (!seconds) return t("console.duration.none");
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return t("console.duration.minutes", { n: minutes });
  const rest = minutes % 60;
  const hours = Math.floor(minutes / 60);
  return rest ? t("console.duration.hoursMinutes", { h: hours, n: rest })
    : t("console.duration.hours", { n: hours });
}

/**
 * @param {string} iso
 * @param {number} [now]
 * @returns {string} "just now", "3 min ago", "2 h ago", in the page's language
 */
export function ago(iso, now = Date.now()) {
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (Number.isNaN(seconds) || seconds < 45) return t("console.ago.now");
  if (seconds < 3600) return t("console.ago.minutes", { n: Math.round(seconds / 60) });
  return t("console.ago.hours", { n: Math.round(seconds / 3600) });
}

/**
 * Rebuild what `root` holds, and give the focus back to the rebuilt element with the same
 * `data-focus` key if the focus was inside: someone on a keyboard or a screen reader who just
 * pressed a button must not be thrown back to the top of the page when it is redrawn.
 * @param {HTMLElement} root
 * @param {() => void} rebuild
 * @param {string} [fallback] a selector in `root` for when that element is gone
 */
export function keepFocus(root, rebuild, fallback) {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && root.contains(active)
    ? active.dataset.focus ?? "" : null;
  rebuild();
  // Still there (left in place by the rebuild): nothing to give back.
  if (key === null || (document.activeElement !== document.body
    && root.contains(document.activeElement))) return;
  const again = (key && root.querySelector(`[data-focus="${CSS.escape(key)}"]`))
    || (fallback ? root.querySelector(fallback) : null);
  if (again instanceof HTMLElement) again.focus();
}
