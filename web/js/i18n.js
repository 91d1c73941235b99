// The words of every page in the event's language: the pages people see at a table and on the
// projector, and the facilitator's console. A French convention or a German Bürgerrat must not
// hand citizens an English page, nor its facilitators an English console. Each reader may pick
// another language; the console keeps its facilitator's pick apart (CONSOLE_PICK), so it does
// not change what participants see on the same browser. Participants' pages reload in a new
// language; the console says its words again in place (views/dom.js relabel()).

import de from "./i18n/de.js";
import en from "./i18n/en.js";
import fr from "./i18n/fr.js";

/** @typedef {string | {one: string, other: string}} Entry */
/** @typedef {Record<string, Entry>} Catalogue */

/** @type {Record<string, Catalogue>} */
const CATALOGUES = { en, fr, de };

/** The languages a page can speak, with their own names, as the server knows them. */
export const LANGUAGES = /** @type {const} */ ([["en", "English"], ["fr", "Français"],
  ["de", "Deutsch"]]);

/** Where the participants' pages keep their reader's own pick of language. */
export const PAGE_PICK = "tablee.language";
/** Where the console keeps its facilitator's own pick. */
export const CONSOLE_PICK = "tablee.console-language";

let current = "en";

/** @returns {string} the language the page speaks now */
export function language() {
  return current;
}

/**
 * A phrase in the page's language, with `{name}` filled from `params`. An entry with `one` and
 * `other` forms is chosen by `params.n` under the language's plural rules.
 * @param {string} key
 * @param {Record<string, string | number>} [params]
 * @returns {string}
 */
export function t(key, params = {}) {
  const entry = CATALOGUES[current]?.[key] ?? en[key];
  if (entry === undefined) return key;
  let text = entry;
  if (typeof entry !== "string") {
    const form = new Intl.PluralRules(current).select(Number(params.n ?? 0));
    text = form === "one" ? entry.one : entry.other;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    (name in params ? String(params[name]) : whole));
}

/**
 * Speak `code` (one of LANGUAGES; anything else is English), and put the static words of the
 * document in it: `data-i18n` sets an element's text, `data-i18n-placeholder`,
 * `data-i18n-label` and `data-i18n-title` its placeholder, aria-label and title.
 * @param {string | null | undefined} code
 * @returns {string} the language now spoken
 */
export function useLanguage(code) {
  current = code && code in CATALOGUES ? code : "en";
  document.documentElement.lang = current;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(/** @type {HTMLElement} */ (el).dataset.i18n ?? "");
  }
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
    el.setAttribute("placeholder", t(/** @type {HTMLElement} */ (el).dataset.i18nPlaceholder ?? ""));
  }
  for (const el of document.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(/** @type {HTMLElement} */ (el).dataset.i18nLabel ?? ""));
  }
  for (const el of document.querySelectorAll("[data-i18n-title]")) {
    el.setAttribute("title", t(/** @type {HTMLElement} */ (el).dataset.i18nTitle ?? ""));
  }
  return current;
}

/**
 * Which language a page speaks: the one this browser's reader picked, else `?lang=` in its
 * address (a link handed to one group can carry it), else the event's, else English.
 * @param {string | null | undefined} eventLanguage
 * @param {string} [store] where the reader's pick is kept: PAGE_PICK or CONSOLE_PICK
 * @returns {string}
 */
export function pickLanguage(eventLanguage, store = PAGE_PICK) {
  const asked = new URLSearchParams(location.search).get("lang");
  for (const code of [chosenLanguage(store), asked, eventLanguage]) {
    if (code && code in CATALOGUES) return code;
  }
  return "en";
}

/**
 * @param {string} [store] PAGE_PICK or CONSOLE_PICK
 * @returns {string | null} the language this browser's reader picked, if any
 */
export function chosenLanguage(store = PAGE_PICK) {
  try {
    return localStorage.getItem(store);
  } catch {
    return null;
  }
}

/**
 * @param {string | null} code the reader's own pick, or null to follow the event
 * @param {string} [store] PAGE_PICK or CONSOLE_PICK
 */
export function chooseLanguage(code, store = PAGE_PICK) {
  try {
    if (code) localStorage.setItem(store, code);
    else localStorage.removeItem(store);
  } catch {
    // Storage disabled: the pick holds until the page reloads.
  }
}

// Failures the page itself names (no answer, no connection, no server): their words are the
// page's, in every language.
const PAGE_ERRORS = new Set(["timeout", "disconnected", "network"]);

/**
 * What went wrong, for the reader: the server's own words in English, elsewhere the phrase for
 * its error code (the server speaks English only), falling back to its words.
 * @param {{message: string, code?: string}} error
 * @returns {string}
 */
export function errorText(error) {
  if (!error.code || (current === "en" && !PAGE_ERRORS.has(error.code))) return error.message;
  const key = `error.${error.code}`;
  const entry = CATALOGUES[current]?.[key];
  return entry === undefined ? error.message : t(key);
}

/**
 * A labelled choice of language for the page's reader; its first option follows the event.
 * @param {(code: string | null) => void} onPick
 * @param {{store?: string, label?: string}} [options] where the pick is kept (PAGE_PICK or
 *   CONSOLE_PICK), and the key of the words before the choice
 * @returns {HTMLLabelElement}
 */
export function languagePicker(onPick, options = {}) {
  const { store = PAGE_PICK, label: labelKey = "language.label" } = options;
  const label = document.createElement("label");
  label.className = "language-picker";
  const words = document.createElement("span");
  words.dataset.i18n = labelKey;
  words.textContent = t(labelKey);
  const select = document.createElement("select");
  select.dataset.testid = "language";
  const auto = new Option(t("language.auto"), "");
  auto.dataset.i18n = "language.auto";
  select.append(auto, ...LANGUAGES.map(([code, name]) => new Option(name, code)));
  select.value = chosenLanguage(store) ?? "";
  select.addEventListener("change", () => onPick(select.value || null));
  label.append(words, " ", select);
  return label;
}
