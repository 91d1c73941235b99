// The form that posts a new note.

import { h, speak } from "./dom.js";
import { NOTE_MAX_CHARS } from "../protocol.js";
import { t } from "../i18n.js";

/**
 * Build the note form. Ctrl+Enter (or ⌘+Enter) posts too.
 * @param {(text: string) => void} onPost called with the trimmed text
 * @param {string} [id] the text area's id, when a page has several composers
 * @returns {HTMLFormElement}
 */
export function composer(onPost, id = "note-text") {
  const area = /** @type {HTMLTextAreaElement} */ (h("textarea", {
    id, name: "text", rows: "3", maxlength: String(NOTE_MAX_CHARS),
    placeholder: () => t("composer.placeholder"), "aria-describedby": `${id}-count`,
  }));
  const count = h("span", { id: `${id}-count`, class: "counter", "aria-live": "off" });
  const button = /** @type {HTMLButtonElement} */ (h("button", { type: "submit", class: "button",
    text: () => t("composer.post") }));
  const updateCount = () => {
    const left = NOTE_MAX_CHARS - area.value.length;
    speak(count, () => t("composer.left", { n: left }));
    button.disabled = area.value.trim().length === 0;
  };
  const submit = (/** @type {SubmitEvent} */ ev) => {
    ev.preventDefault();
    const text = area.value.trim();
    if (!text) return;
    onPost(text);
    area.value = "";
    updateCount();
    area.focus();
  };
  const form = /** @type {HTMLFormElement} */ (h("form",
    { class: "composer", "aria-label": () => t("composer.form"), onsubmit: submit },
    h("label", { for: id, class: "label", text: () => t("composer.label") }),
    area,
    h("div", { class: "row spread" }, count, button)));
  area.addEventListener("input", updateCount);
  area.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) form.requestSubmit();
  });
  updateCount();
  return form;
}
