// The console's agenda: the running step with its timer controls, every step with a way to
// start it, a template to start from, a step to add, and how the tables are mixed.

import { getTemplates } from "../api.js";
import { formatDuration } from "../event-state.js";
import { h } from "./dom.js";
import { mountStepCard } from "./step.js";

/** @typedef {import("../socket.js").TableeSocket} TableeSocket */
/** @typedef {import("../event-state.js").EventState} EventState */
/** @typedef {import("../event-state.js").Step} Step */

const ASSIGN_LABELS = {
  keep: "seats kept",
  random: "random tables",
  balanced: "balanced tables",
  reshuffle: "reshuffle: hosts stay",
  self_select: "people choose",
};

/**
 * @param {HTMLElement} root
 * @param {{socket: TableeSocket, state: EventState, notify: (m: string) => void}} options
 */
export function mountAgendaPanel(root, { socket, state, notify }) {
  /**
   * Send a request; say what went wrong if it fails.
   * @param {string} type
   * @param {Record<string, any>} payload
   * @param {string} what
   */
  const send = (type, payload, what) => socket.request(type, payload).catch((err) => {
    notify(`${what}: ${err.message}`);
    return null;
  });

  const stepSlot = h("div");
  mountStepCard(stepSlot, state, { idleText: "No step is running." });
  const button = (/** @type {string} */ text, /** @type {() => void} */ onclick,
    /** @type {string} */ testid) => /** @type {HTMLButtonElement} */ (h("button", {
    type: "button", class: "button small secondary", text, onclick, "data-testid": testid }));
  const next = button("Start next step", () => {
    const step = state.nextStep;
    if (step) send("step.start", { step: step.id }, "The step did not start");
  }, "start-next");
  next.classList.remove("secondary");
  const pause = button("Pause", () => {
    const paused = state.agenda.current.status === "paused";
    send(paused ? "step.resume" : "step.pause", {}, "The timer did not change");
  }, "pause");
  const minus = button("−1 min", () => send("step.adjust", { seconds: -60 }, "Not shortened"),
    "shorten");
  const plus = button("+1 min", () => send("step.adjust", { seconds: 60 }, "Not extended"),
    "extend");
  const plus5 = button("+5 min", () => send("step.adjust", { seconds: 300 }, "Not extended"),
    "extend-5");
  const end = button("End step", () => send("step.end", {}, "The step did not end"), "end-step");
  const recall = button("Everyone to plenary", () => send("step.end", { recall: true },
    "The rooms were not recalled"), "recall");
  const controls = h("div", { class: "row wrap timer-controls" },
    next, pause, minus, plus, plus5, end, recall);

  const list = h("ol", { class: "agenda-steps", "data-testid": "agenda-steps" });

  const templateSelect = /** @type {HTMLSelectElement} */ (h("select", { id: "template",
    "aria-label": "Template" }, h("option", { value: "", text: "Start from a format…" })));
  const templateForm = h("form", { class: "inline-form", "aria-label": "Load a format",
    onsubmit: (/** @type {SubmitEvent} */ ev) => {
      ev.preventDefault();
      const name = templateSelect.value;
      if (!name) return;
      const replacing = state.agenda.steps.length
        && !window.confirm("Replace the agenda with this format's steps?");
      if (replacing) return;
      send("agenda.load", { template: name }, "The format was not loaded");
    } }, templateSelect, h("button", { type: "submit", class: "button small", text: "Load" }));
  getTemplates().then(({ templates }) => {
    templateSelect.append(...templates.map((t) => h("option", { value: t.name,
      text: `${t.title} (${t.steps.length} steps)`, title: t.description })));
  }).catch(() => {});

  const addForm = stepForm((step) => send("agenda.set",
    { steps: [...state.agenda.steps, step] }, "The step was not added"));

  const mixSelect = /** @type {HTMLSelectElement} */ (h("select", { id: "mix-strategy",
    "aria-label": "How to mix the tables" },
  h("option", { value: "balanced", text: "Balance the tables" }),
  h("option", { value: "random", text: "Random tables" }),
  h("option", { value: "reshuffle", text: "Reshuffle (hosts stay, new faces)" })));
  const together = /** @type {HTMLTextAreaElement} */ (h("textarea", { id: "keep-together",
    rows: "2", placeholder: "One group per line, e.g. Ana, Ben" }));
  const free = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", id: "free-seating",
    onchange: () => send("seating.set", { free: free.checked }, "Seating did not change") }));
  const seating = h("div", { class: "row wrap seating-controls" },
    h("form", { class: "inline-form", "aria-label": "Mix the tables",
      onsubmit: (/** @type {SubmitEvent} */ ev) => {
        ev.preventDefault();
        const groups = listedGroups(together.value, state);
        if (typeof groups === "string") {
          notify(groups);
          return;
        }
        send("rooms.assign", { strategy: mixSelect.value, groups }, "The tables were not mixed")
          .then((ack) => { if (ack) notify(`${ack.payload.moved} people changed table.`); });
      } }, mixSelect, h("button", { type: "submit", class: "button small", text: "Mix now" }),
    h("label", { class: "label", for: "keep-together", text: "Keep together" }), together),
    h("label", { class: "check", for: "free-seating" }, free,
      " People choose their own table"));

  root.replaceChildren(stepSlot, controls, list,
    h("details", { class: "agenda-tools" }, h("summary", { text: "Format, steps and seating" }),
      templateForm, addForm, seating));

  const render = () => {
    const a = state.agenda;
    const status = a.current.status;
    const upcoming = state.nextStep;
    next.disabled = !upcoming;
    next.textContent = upcoming ? `Start: ${upcoming.title}` : "Start next step";
    pause.disabled = !state.live;
    pause.textContent = status === "paused" ? "Resume" : "Pause";
    const timed = state.leftMs() !== null;
    for (const b of [minus, plus, plus5]) b.disabled = !timed;
    end.disabled = !state.live;
    recall.disabled = !state.live && a.phase === "plenary";
    free.checked = a.free_seating;
    list.replaceChildren(...a.steps.map((s, i) => stepItem(s, i, a.current.step === s.id)));
    if (!a.steps.length) {
      list.replaceChildren(h("li", { class: "empty",
        text: "No agenda yet: load a format or add a step below." }));
    }
  };

  /**
   * @param {Step} step
   * @param {number} i
   * @param {boolean} isCurrent
   * @returns {HTMLElement}
   */
  const stepItem = (step, i, isCurrent) => {
    const where = step.mode === "plenary" ? "plenary" : `tables, ${ASSIGN_LABELS[
      /** @type {keyof typeof ASSIGN_LABELS} */ (step.assign)] ?? step.assign}`;
    const detail = `${formatDuration(step.duration)} · ${where}${step.topics ? " · topics" : ""}`
      + (step.votes ? ` · ${step.votes} vote${step.votes === 1 ? "" : "s"} each` : "")
      + (step.choices?.length ? ` · question, ${step.choices.length} choices` : "");
    const remove = h("button", { type: "button", class: "link-button danger", text: "Remove",
      "aria-label": `Remove ${step.title}`, disabled: isCurrent && state.live,
      onclick: () => send("agenda.set",
        { steps: state.agenda.steps.filter((s) => s.id !== step.id) }, "Not removed") });
    return h("li", { class: `agenda-step${isCurrent ? " current" : ""}`,
      "data-step-id": step.id, "aria-current": isCurrent ? "step" : false },
    h("div", { class: "agenda-step-text" },
      h("span", { class: "agenda-step-title", text: `${i + 1}. ${step.title}` }),
      h("span", { class: "muted small", text: detail })),
    h("div", { class: "row" },
      h("button", { type: "button", class: "button small", "data-testid": "start-step",
        text: isCurrent && state.live ? "Restart" : "Start", "aria-label": `Start ${step.title}`,
        onclick: () => send("step.start", { step: step.id }, "The step did not start") }),
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
 * The form that adds a step.
 * @param {(step: Record<string, any>) => void} onAdd
 * @returns {HTMLElement}
 */
function stepForm(onAdd) {
  const form = /** @type {HTMLFormElement} */ (h("form", { class: "step-form stack",
    "aria-label": "Add a step" },
  h("label", { class: "label", for: "step-title", text: "New step" }),
  h("input", { id: "step-title", name: "title", required: true, maxlength: "120",
    placeholder: "Title, e.g. Round 1" }),
  h("label", { class: "visually-hidden", for: "step-prompt", text: "Prompt" }),
  h("textarea", { id: "step-prompt", name: "prompt", rows: "2", maxlength: "1000",
    placeholder: "The question every table works on" }),
  h("div", { class: "row wrap" },
    h("label", { class: "visually-hidden", for: "step-mode", text: "Mode" }),
    h("select", { id: "step-mode", name: "mode" },
      h("option", { value: "breakouts", text: "At the tables" }),
      h("option", { value: "plenary", text: "Plenary" })),
    h("label", { for: "step-minutes", text: "Minutes" }),
    h("input", { id: "step-minutes", name: "minutes", type: "number", min: "0", max: "360",
      value: "15", class: "narrow-number" }),
    h("label", { class: "visually-hidden", for: "step-assign", text: "Seating" }),
    h("select", { id: "step-assign", name: "assign" },
      ...Object.entries(ASSIGN_LABELS).map(([value, text]) => h("option", { value, text })))),
  h("div", { class: "row wrap" },
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "recall",
      checked: true }), " Back to plenary at the end"),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "topics" }),
      " Collect topics"),
    h("label", { for: "step-votes", text: "Votes each",
      title: "Each person may like this many notes during the step; 0: as many as they like" }),
    h("input", { id: "step-votes", name: "votes", type: "number", min: "0", max: "20",
      value: "0", class: "narrow-number" })),
  h("label", { class: "label small", for: "step-choices",
    text: "Choices, one per line (2 to 8): everyone at the tables answers the step as a question" }),
  h("textarea", { id: "step-choices", name: "choices", rows: "3", "data-testid": "step-choices",
    placeholder: "Leave empty for no question" }),
  h("button", { type: "submit", class: "button small", text: "Add step" })));
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
      if (!id) return `Nobody called “${name}” sits at a table.`;
      ids.push(id);
    }
    groups.push(ids);
  }
  return groups;
}
