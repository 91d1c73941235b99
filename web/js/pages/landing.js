// The landing page: create an event (and become its facilitator) or go to a join code.

import { createEvent, getTemplates } from "../api.js";
import { byId, h } from "../views/dom.js";
import { cleanCode, lastFacilitated, saveSession } from "../session.js";

/**
 * Read the "Tables" field: a number, or names separated by commas or new lines.
 * @param {string} raw
 * @returns {number | string[]}
 */
export function parseTables(raw) {
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text);
  return text.split(/[,\n]/).map((s) => s.trim()).filter(Boolean);
}

const joinForm = /** @type {HTMLFormElement} */ (byId("join-form"));
joinForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const code = cleanCode(/** @type {HTMLInputElement} */ (byId("join-code")).value);
  if (code) location.assign(`/join/${encodeURIComponent(code)}`);
});

const createForm = /** @type {HTMLFormElement} */ (byId("create-form"));
// The participants' language starts as the facilitator's own, when the pages speak it.
const languageChoice = /** @type {HTMLSelectElement} */ (byId("create-language"));
const ownLanguage = (navigator.language || "en").slice(0, 2).toLowerCase();
if ([...languageChoice.options].some((o) => o.value === ownLanguage)) {
  languageChoice.value = ownLanguage;
}
const createError = byId("create-error");
createForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const data = new FormData(createForm);
  const rooms = parseTables(String(data.get("tables")));
  if ((typeof rooms === "number" && rooms < 1) || (Array.isArray(rooms) && !rooms.length)) {
    createError.textContent = "Give at least one table.";
    createError.hidden = false;
    return;
  }
  const button = /** @type {HTMLButtonElement} */ (createForm.querySelector("button[type=submit]"));
  button.disabled = true;
  createError.hidden = true;
  try {
    const template = String(data.get("template") ?? "");
    const created = await createEvent({
      title: String(data.get("title")).trim(),
      rooms,
      capacity: Number(data.get("capacity")),
      pseudonym: String(data.get("pseudonym")).trim(),
      language: String(data.get("language") ?? "en"),
      ...(template ? { template } : {}),
    });
    saveSession("facilitator", {
      event: created.event, rooms: created.rooms, token: created.token,
      participant: created.participant, secret: created.facilitator_secret,
      facilitatorLink: created.links?.facilitator,
    });
    location.assign(`/facilitate.html#${encodeURIComponent(created.event.join_code)}`);
  } catch (err) {
    const message = /** @type {Error} */ (err).message;
    createError.textContent = `The event could not be created: ${message}`;
    createError.hidden = false;
    button.disabled = false;
  }
});

const last = lastFacilitated();
if (last) {
  const resume = byId("resume");
  const href = `/facilitate.html#${encodeURIComponent(last)}`;
  resume.replaceChildren("You are facilitating an event in this browser: ",
    h("a", { href, text: `open its console (${last})` }), ".");
  resume.hidden = false;
}

// The formats, each suggesting a table layout until the facilitator types their own.
const templateSelect = /** @type {HTMLSelectElement} */ (byId("create-template"));
const tablesInput = /** @type {HTMLInputElement} */ (byId("create-tables"));
const capacityInput = /** @type {HTMLInputElement} */ (byId("create-capacity"));
let layoutTouched = false;
tablesInput.addEventListener("input", () => { layoutTouched = true; });
capacityInput.addEventListener("input", () => { layoutTouched = true; });
getTemplates().then(({ templates }) => {
  templateSelect.append(...templates.map((t) => h("option", { value: t.name, text: t.title,
    title: t.description })));
  templateSelect.addEventListener("change", () => {
    const chosen = templates.find((t) => t.name === templateSelect.value);
    if (!chosen || layoutTouched) return;
    if (chosen.suggested_tables > 0) tablesInput.value = String(chosen.suggested_tables);
    capacityInput.value = String(chosen.suggested_capacity);
  });
}).catch(() => {
  // Without the list, events start without an agenda; the console can load one later.
});
