// The console's agenda: the running step with its timer controls, every step with a way to
// start it, a template to start from, a step to add, and how the tables are mixed.

import { getTemplates } from "../api.js";
import { errorText, language, t } from "../i18n.js";
import { formatDuration, h, relabel } from "./dom.js";
import { mountStepCard } from "./step.js";

/** @typedef {import("../socket.js").TableeSocket} TableeSocket */
/** @typedef {import("../event-state.js").EventState} EventState */
/** @typedef {import("../event-state.js").Step} Step */

/** How a step seats people: each way's words are `console.assign.<way>`. */
const ASSIGNS = ["keep", "random", "balanced", "reshuffle", "self_select"];

/**
 * @param {HTMLElement} root
 * @param {{socket: TableeSocket, state: EventState, notify: (m: string) => void}} options
 */
export function mountAgendaPanel(root, { socket, state, notify }) {
  /**
   * Send a request; say what went wrong if it fails.
   * @param {string} type
   * @param {Record<string, any>} payload
   * @param {string} failed the key of what to say then, with the `{reason}`
   */
  const send = (type, payload, failed) => socket.request(type, payload).catch((err) => {
    notify(t(failed, { reason: errorText(err) }));
    return null;
  });

  const stepSlot = h("div");
  mountStepCard(stepSlot, state, { idleText: () => t("console.agenda.idle") });
  const button = (/** @type {string} */ key, /** @type {() => void} */ onclick,
    /** @type {string} */ testid) => /** @type {HTMLButtonElement} */ (h("button", {
    type: "button", class: "button small secondary", text: () => t(key), onclick,
    "data-testid": testid }));
  const next = /** @type {HTMLButtonElement} */ (h("button", { type: "button",
    class: "button small", "data-testid": "start-next",
    text: () => (state.nextStep ? t("console.agenda.startThis", { title: state.nextStep.title })
      : t("console.agenda.startNext")),
    onclick: () => {
      const step = state.nextStep;
      if (step) send("step.start", { step: step.id }, "console.agenda.startFailed");
    } }));
  const pause = /** @type {HTMLButtonElement} */ (h("button", { type: "button",
    class: "button small secondary", "data-testid": "pause",
    text: () => t(state.agenda.current.status === "paused" ? "console.agenda.resume"
      : "console.agenda.pause"),
    onclick: () => {
      const paused = state.agenda.current.status === "paused";
      send(paused ? "step.resume" : "step.pause", {}, "console.agenda.timerFailed");
    } }));
  const minus = button("console.agenda.minus1",
    () => send("step.adjust", { seconds: -60 }, "console.agenda.shortenFailed"), "shorten");
  const plus = button("console.agenda.plus1",
    () => send("step.adjust", { seconds: 60 }, "console.agenda.extendFailed"), "extend");
  const plus5 = button("console.agenda.plus5",
    () => send("step.adjust", { seconds: 300 }, "console.agenda.extendFailed"), "extend-5");
  const end = button("console.agenda.end",
    () => send("step.end", {}, "console.agenda.endFailed"), "end-step");
  const recall = button("console.agenda.recall",
    () => send("step.end", { recall: true }, "console.agenda.recallFailed"), "recall");
  const controls = h("div", { class: "row wrap timer-controls" },
    next, pause, minus, plus, plus5, end, recall);

  const list = h("ol", { class: "agenda-steps", "data-testid": "agenda-steps" });

  const templateSelect = /** @type {HTMLSelectElement} */ (h("select", { id: "template",
    "aria-label": () => t("console.agenda.template") },
  h("option", { value: "", text: () => t("console.agenda.fromFormat") })));
  const templateForm = h("form", { class: "inline-form",
    "aria-label": () => t("console.agenda.loadFormat"),
    onsubmit: (/** @type {SubmitEvent} */ ev) => {
      ev.preventDefault();
      const name = templateSelect.value;
      if (!name) return;
      const replacing = state.agenda.steps.length
        && !window.confirm(t("console.agenda.replace"));
      if (replacing) return;
      send("agenda.load", { template: name }, "console.agenda.loadFailed");
    } }, templateSelect,
  h("button", { type: "submit", class: "button small", text: () => t("console.agenda.load") }));
  getTemplates().then(({ templates }) => {
    // Named in the console's language where the format has words for it.
    const words = (/** @type {import("../api.js").Template} */ f) => f.words?.[language()] ?? f;
    templateSelect.append(...templates.map((f) => h("option", { value: f.name,
      text: () => t("console.agenda.format", { title: words(f).title, n: f.steps.length }),
      title: () => words(f).description })));
  }).catch(() => {});

  const addForm = stepForm((step) => send("agenda.set",
    { steps: [...state.agenda.steps, step] }, "console.agenda.addFailed"));

  const mixSelect = /** @type {HTMLSelectElement} */ (h("select", { id: "mix-strategy",
    "aria-label": () => t("console.mix.label") },
  h("option", { value: "balanced", text: () => t("console.mix.balanced") }),
  h("option", { value: "random", text: () => t("console.mix.random") }),
  h("option", { value: "reshuffle", text: () => t("console.mix.reshuffle") })));
  const together = /** @type {HTMLTextAreaElement} */ (h("textarea", { id: "keep-together",
    rows: "2", placeholder: () => t("console.mix.groupsPlaceholder") }));
  const free = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", id: "free-seating",
    onchange: () => send("seating.set", { free: free.checked }, "console.mix.seatingFailed") }));
  const seating = h("div", { class: "row wrap seating-controls" },
    h("form", { class: "inline-form", "aria-label": () => t("console.mix.form"),
      onsubmit: (/** @type {SubmitEvent} */ ev) => {
        ev.preventDefault();
        const groups = listedGroups(together.value, state);
        if (typeof groups === "string") {
          notify(groups);
          return;
        }
        send("rooms.assign", { strategy: mixSelect.value, groups }, "console.mix.failed")
          .then((ack) => {
            if (ack) notify(t("console.mix.moved", { n: ack.payload.moved }));
          });
      } }, mixSelect,
    h("button", { type: "submit", class: "button small", text: () => t("console.mix.now") }),
    h("label", { class: "label", for: "keep-together", text: () => t("console.mix.together") }),
    together),
    h("label", { class: "check", for: "free-seating" }, free, " ",
      h("span", { text: () => t("console.mix.free") })));

  root.replaceChildren(stepSlot, controls, list,
    h("details", { class: "agenda-tools" },
      h("summary", { text: () => t("console.agenda.tools") }),
      templateForm, addForm, seating));

  const render = () => {
    const a = state.agenda;
    next.disabled = !state.nextStep;
    relabel(next);
    pause.disabled = !state.live;
    relabel(pause);
    const timed = state.leftMs() !== null;
    for (const b of [minus, plus, plus5]) b.disabled = !timed;
    end.disabled = !state.live;
    recall.disabled = !state.live && a.phase === "plenary";
    free.checked = a.free_seating;
    list.replaceChildren(...a.steps.map((s, i) => stepItem(s, i, a.current.step === s.id)));
    if (!a.steps.length) {
      list.replaceChildren(h("li", { class: "empty", text: t("console.agenda.empty") }));
    }
  };

  /**
   * @param {Step} step
   * @param {number} i
   * @param {boolean} isCurrent
   * @returns {HTMLElement}
   */
  const stepItem = (step, i, isCurrent) => {
    const where = step.mode === "plenary" ? t("console.agenda.inPlenary")
      : t("console.agenda.atTables", { seating: assignText(step.assign) });
    const detail = [formatDuration(step.duration), where,
      step.topics ? t("console.agenda.topics") : "",
      step.votes ? t("console.agenda.votes", { n: step.votes }) : "",
      step.choices?.length ? t("console.agenda.question", { n: step.choices.length }) : "",
    ].filter(Boolean).join(" · ");
    const remove = h("button", { type: "button", class: "link-button danger",
      text: t("console.agenda.remove"),
      "aria-label": t("console.agenda.removeStep", { title: step.title }),
      disabled: isCurrent && state.live,
      onclick: () => send("agenda.set",
        { steps: state.agenda.steps.filter((s) => s.id !== step.id) },
        "console.agenda.removeFailed") });
    return h("li", { class: `agenda-step${isCurrent ? " current" : ""}`,
      "data-step-id": step.id, "aria-current": isCurrent ? "step" : false },
    h("div", { class: "agenda-step-text" },
      h("span", { class: "agenda-step-title", text: `${i + 1}. ${step.title}` }),
      h("span", { class: "muted small", text: detail })),
    h("div", { class: "row" },
      h("button", { type: "button", class: "button small", "data-testid": "start-step",
        text: t(isCurrent && state.live ? "console.agenda.restart" : "console.agenda.start"),
        "aria-label": t("console.agenda.startStep", { title: step.title }),
        onclick: () => send("step.start", { step: step.id }, "console.agenda.startFailed") }),
      remove));
  };

  state.subscribe(render);
  setInterval(() => {
    const timed = state.leftMs() !== null;
    for (const b of [minus, plus, plus5]) b.disabled = !timed;
  }, 1000);
  render();
}

/**
 * @param {string} assign how a step seats people
 * @returns {string} its words
 */
function assignText(assign) {
  return ASSIGNS.includes(assign) ? t(`console.assign.${assign}`) : assign;
}

/**
 * The form that adds a step.
 * @param {(step: Record<string, any>) => void} onAdd
 * @returns {HTMLElement}
 */
function stepForm(onAdd) {
  const form = /** @type {HTMLFormElement} */ (h("form", { class: "step-form stack",
    "aria-label": () => t("console.stepForm.label") },
  h("label", { class: "label", for: "step-title", text: () => t("console.stepForm.heading") }),
  h("input", { id: "step-title", name: "title", required: true, maxlength: "120",
    placeholder: () => t("console.stepForm.titlePlaceholder") }),
  h("label", { class: "visually-hidden", for: "step-prompt",
    text: () => t("console.stepForm.prompt") }),
  h("textarea", { id: "step-prompt", name: "prompt", rows: "2", maxlength: "1000",
    placeholder: () => t("console.stepForm.promptPlaceholder") }),
  h("div", { class: "row wrap" },
    h("label", { class: "visually-hidden", for: "step-mode",
      text: () => t("console.stepForm.mode") }),
    h("select", { id: "step-mode", name: "mode" },
      h("option", { value: "breakouts", text: () => t("step.atTables") }),
      h("option", { value: "plenary", text: () => t("step.plenary") })),
    h("label", { for: "step-minutes", text: () => t("console.stepForm.minutes") }),
    h("input", { id: "step-minutes", name: "minutes", type: "number", min: "0", max: "360",
      value: "15", class: "narrow-number" }),
    h("label", { class: "visually-hidden", for: "step-assign",
      text: () => t("console.stepForm.seating") }),
    h("select", { id: "step-assign", name: "assign" },
      ...ASSIGNS.map((value) => h("option", { value, text: () => assignText(value) })))),
  h("div", { class: "row wrap" },
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "recall",
      checked: true }), " ", h("span", { text: () => t("console.stepForm.recall") })),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "topics" }),
      " ", h("span", { text: () => t("console.stepForm.topics") })),
    h("label", { for: "step-votes", text: () => t("console.stepForm.votes"),
      title: () => t("console.stepForm.votesHint") }),
    h("input", { id: "step-votes", name: "votes", type: "number", min: "0", max: "20",
      value: "0", class: "narrow-number" })),
  h("label", { class: "label small", for: "step-choices",
    text: () => t("console.stepForm.choices") }),
  h("textarea", { id: "step-choices", name: "choices", rows: "3", "data-testid": "step-choices",
    placeholder: () => t("console.stepForm.choicesPlaceholder") }),
  h("button", { type: "submit", class: "button small",
    text: () => t("console.stepForm.add") })));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    onAdd({
      title: String(data.get("title")).trim(),
      prompt: String(data.get("prompt") ?? "").trim(),
      mode: String(data.get("mode")),
      duration: Math.round(Number(data.get("minutes") || 0) * 60),
      assign: String(data.get("assign")),
      recall: data.get("recall") !== null,
      topics: data.get("topics") !== null,
      votes: Math.round(Number(data.get("votes") || 0)),
      choices: String(data.get("choices") ?? "").split("\n").map((c) => c.trim()).filter(Boolean),
    });
    form.reset();
  });
  return form;
}

/**
 * Read the groups to keep together: one per line, names separated by commas.
 * @param {string} text
 * @param {EventState} state
 * @returns {string[][] | string} participant ids per group, or what is wrong
 */
export function listedGroups(text, state) {
  /** @type {Map<string, string>} */
  const byName = new Map();
  for (const p of state.people.values()) {
    const key = p.pseudonym.trim().toLowerCase();
    if (!byName.has(key)) byName.set(key, p.id);
  }
  const groups = [];
  for (const line of text.split("\n")) {
    const names = line.split(",").map((n) => n.trim()).filter(Boolean);
    if (names.length < 2) continue;
    const ids = [];
    for (const name of names) {
      const id = byName.get(name.toLowerCase());
      if (!id) return t("console.mix.unknown", { name });
      ids.push(id);
    }
    groups.push(ids);
  }
  return groups;
}
