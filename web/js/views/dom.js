// A small element builder. Text always goes in as text nodes, never as HTML.

import { language } from "../i18n.js";

/**
 * @typedef {Record<string, any>} Attrs
 *   `class`, `text` (textContent), `dataset`, `on<event>` handlers, booleans such as
 *   `disabled`, anything else through setAttribute.
 */

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
    else if (name === "text") el.textContent = String(value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
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
 * @param {number} n
 * @param {string} one
 * @param {string} many
 * @returns {string}
 */
export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}
