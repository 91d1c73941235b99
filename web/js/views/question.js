// A step that asks a question with choices: each person at a table answers it on their phone,
// the console follows the answers live, and everyone sees the result once the step closes.
// Until then only facilitators see how the answers fall, so nobody follows the crowd.

import { h, keepFocus } from "./dom.js";
import { errorText, t } from "../i18n.js";

/** @typedef {import("../socket.js").TableeSocket} TableeSocket */
/** @typedef {import("../event-state.js").EventState} EventState */
/** @typedef {import("../event-state.js").Step} Step */
/**
 * @typedef {{step: string, choices: string[], counts: number[] | null, answered: number,
 *            eligible: number, rooms: {room: string, counts: number[]}[] | null,
 *            open: boolean, agenda_version: number}} Tally
 */

/**
 * The tally to keep: `next` unless `held` counts the same step under a later agenda. Two
 * server processes can deliver a count made before the question closed after its result.
 * @param {Tally | null | undefined} held
 * @param {Tally} next
 * @returns {Tally}
 */
export function latest(held, next) {
  if (held && held.step === next.step && held.agenda_version > next.agenda_version) return held;
  return next;
}

/**
 * @param {Step | null} step
 * @returns {string[]} its choices, none when it asks nothing
 */
export function choicesOf(step) {
  return step?.choices ?? [];
}

/**
 * @param {Tally} tally with its counts
 * @returns {{label: string, count: number, percent: number}[]} each choice with its share of
 *   the answers, in whole percent (0 when nobody answered)
 */
export function shares(tally) {
  const counts = tally.counts ?? tally.choices.map(() => 0);
  const total = counts.reduce((a, b) => a + b, 0);
  return tally.choices.map((label, i) => ({
    label, count: counts[i] ?? 0,
    percent: total ? Math.round((100 * (counts[i] ?? 0)) / total) : 0,
  }));
}

/**
 * The result as bars, one per choice, most answered marked.
 * @param {Tally} tally with its counts
 * @returns {HTMLElement}
 */
export function resultBars(tally) {
  const rows = shares(tally);
  const top = Math.max(0, ...rows.map((r) => r.count));
  return h("ol", { class: "result-bars", "data-testid": "result-bars" },
    ...rows.map((r) => h("li", {
      class: `result-bar${top > 0 && r.count === top ? " top" : ""}`,
      "data-testid": "result-bar", "data-count": String(r.count),
    },
    h("span", { class: "result-label", text: r.label }),
    h("span", { class: "result-track", "aria-hidden": "true" },
      h("span", { class: "result-fill", style: `width: ${r.percent}%` })),
    h("span", { class: "result-figure", text: `${r.count} · ${r.percent}%` }))));
}

/**
 * The phone's question card: the choices while the step is open, then the result.
 */
export class Ballot {
  /**
   * @param {HTMLElement} root
   * @param {{socket: TableeSocket, state: EventState, notify: (m: string) => void,
   *          role: () => string}} options
   */
  constructor(root, { socket, state, notify, role }) {
    this.root = root;
    this.socket = socket;
    this.state = state;
    this.notify = notify;
    this.role = role;
    /** @type {Map<string, number | null>} this person's answer to each step, as the server said */
    this.answers = new Map();
    /** @type {Tally | null} the latest closed result */
    this.result = null;
    this.dismissed = false;
    /** @type {{step: string, choice: number | null} | null} chosen here, not yet confirmed */
    this.wanted = null;
    this.sending = false;
    state.subscribe(() => this.render());
    this.render();
  }

  /** @returns {boolean} the current step asks a question this page may answer now */
  get answering() {
    const seated = this.role() === "participant" || this.role() === "table_host";
    return seated && this.state.live && choicesOf(this.state.step).length > 0;
  }

  /**
   * This person's answer in the current step (from `event.watch`).
   * @param {number | null} choice
   */
  setAnswer(choice) {
    const step = this.state.agenda.current.step;
    if (step) this.answers.set(step, choice);
    this.render();
  }

  /** @param {Tally} tally a closed question's result */
  showResult(tally) {
    if (tally.open || !tally.counts) return;
    this.result = tally;
    this.dismissed = false;
    this.render();
  }

  /** After a reconnect: the current step's question has closed, so ask for its result. */
  fetchResultIfClosed() {
    const step = this.state.step;
    if (!step || !choicesOf(step).length || this.state.live) return;
    if (this.result?.step === step.id) return;
    this.socket.request("answers.tally", { step: step.id })
      .then((ack) => this.showResult(ack.payload.tally))
      .catch(() => {});
  }

  /**
   * Choose an answer, or with null withdraw it. The page shows it at once, as a radio button
   * would. One answer travels at a time: those chosen meanwhile (arrow keys pressed quickly)
   * wait, and only the last is sent once the server has confirmed the one before, so the
   * server ends on the answer the page shows.
   * @param {number | null} choice
   */
  answer(choice) {
    const step = this.state.agenda.current.step;
    if (!step) return;
    this.wanted = { step, choice };
    this.send();
    this.render();
  }

  /** Send the answer chosen here, unless one is already on its way or the server has it. */
  send() {
    const wanted = this.wanted;
    if (this.sending || !wanted) return;
    const held = this.answers.get(wanted.step) ?? null;
    if (wanted.step !== this.state.agenda.current.step || wanted.choice === held) {
      this.wanted = null; // the step has moved on, or nothing has changed
      return;
    }
    this.sending = true;
    this.socket.request("answer.set", { step: wanted.step, choice: wanted.choice })
      .then((ack) => {
        this.answers.set(ack.payload.step, ack.payload.choice);
        if (this.wanted === wanted) this.wanted = null;
      })
      .catch((err) => {
        // What was chosen since is dropped too: the page shows the answer the server holds.
        this.wanted = null;
        this.notify(t("question.failed", { reason: errorText(err) }));
      })
      .finally(() => {
        this.sending = false;
        this.send();
        this.render();
      });
  }

  /**
   * The arrow keys of a radio group: the next or previous choice, round the end, or the first
   * or last, is chosen and takes the focus (the redraw gives it to the checked choice).
   * @param {KeyboardEvent} ev
   * @param {HTMLElement[]} buttons
   */
  moveChoice(ev, buttons) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const at = buttons.indexOf(/** @type {HTMLElement} */ (ev.target));
    if (at < 0) return;
    const n = buttons.length;
    const to = { ArrowDown: at + 1, ArrowRight: at + 1, ArrowUp: at - 1 + n, ArrowLeft: at - 1 + n,
      Home: 0, End: n - 1 }[ev.key];
    if (to === undefined) return;
    ev.preventDefault(); // nor scroll the page
    if (to % n !== at) this.answer(to % n);
  }

  render() {
    const step = this.state.step;
    if (this.answering && step) {
      // A new question replaces the last result.
      if (this.result && this.result.step !== step.id) this.result = null;
      const held = this.answers.get(step.id) ?? null;
      const mine = this.wanted?.step === step.id ? this.wanted.choice : held;
      const stop = mine ?? 0;
      // A radio group: one tab stop, the checked choice (the first when none is), and the arrow
      // keys to move. Only that choice carries the focus key, so after a redraw the focus is on
      // the choice just made, whether by an arrow, Space or a tap. Never `disabled`, nor
      // `aria-disabled` while an answer travels: a choice made then is sent after it.
      const buttons = choicesOf(step).map((label, i) => h("button", {
        type: "button", class: `choice-button${mine === i ? " chosen" : ""}`,
        "data-testid": "choice", role: "radio", "aria-checked": mine === i ? "true" : "false",
        tabindex: i === stop ? "0" : "-1", "data-focus": i === stop ? "choice" : undefined,
        text: label,
        onclick: () => { if (mine !== i) this.answer(i); },
      }));
      // Answering, changing or withdrawing redraws the card: the focus stays in the group.
      keepFocus(this.root, () => this.root.replaceChildren(h("section", { class: "question-card",
        "data-testid": "question", "aria-labelledby": "question-heading" },
      h("h2", { id: "question-heading", text: t("question.heading") }),
      // The step card above asks the question (the step's prompt); the group is named by it.
      h("div", { class: "choice-list", role: "radiogroup", "aria-label": step.prompt || step.title,
        onkeydown: (/** @type {KeyboardEvent} */ ev) => this.moveChoice(ev, buttons) },
      ...buttons),
      h("p", { class: "muted small", "aria-live": "polite", "data-testid": "question-status",
        text: held === null ? t("question.hint") : t("question.saved", { choice: choicesOf(step)[held] ?? "" }) }),
      mine === null ? "" : h("button", { type: "button", class: "link-button small",
        "data-testid": "withdraw", text: t("question.withdraw"), "data-focus": "withdraw",
        onclick: () => this.answer(null) }))), '[data-focus="choice"]');
      this.root.hidden = false;
      return;
    }
    const result = this.result;
    if (result && !this.dismissed) {
      const asked = this.state.agenda.steps.find((s) => s.id === result.step);
      this.root.replaceChildren(h("section", { class: "question-card result",
        "data-testid": "question-result", "aria-labelledby": "result-heading" },
      h("h2", { id: "result-heading", text: t("question.results") }),
      asked?.prompt ? h("p", { class: "question-prompt", text: asked.prompt }) : "",
      resultBars(result),
      h("p", { class: "muted small", text: t("question.answers", { n: result.answered }) }),
      h("button", { type: "button", class: "link-button small", text: t("question.dismiss"),
        onclick: () => { this.dismissed = true; this.render(); } })));
      this.root.hidden = false;
      return;
    }
    this.root.replaceChildren();
    this.root.hidden = true;
  }
}

/**
 * The projector's view of a question: how many have answered while it is open (never how),
 * then the result.
 * @param {HTMLElement} root
 * @param {{socket: TableeSocket, state: EventState}} options
 * @returns {{showResult: (tally: Tally) => void}}
 */
export function mountScreenQuestion(root, { socket, state }) {
  /** @type {Tally | null} */
  let tally = null;
  const render = () => {
    const step = state.step;
    const asks = choicesOf(step).length > 0;
    if (!step || !asks || !tally || tally.step !== step.id) {
      root.hidden = true;
      root.replaceChildren();
      return;
    }
    root.hidden = false;
    const heading = h("h2", { text: tally.open ? step.prompt || step.title : t("question.results") });
    if (tally.open || !tally.counts) {
      root.replaceChildren(heading, h("p", { class: "question-progress",
        "data-testid": "question-progress",
        text: t("question.answered", { n: tally.answered, total: tally.eligible }) }));
    } else {
      root.replaceChildren(heading,
        step.prompt && !tally.open ? h("p", { class: "question-prompt", text: step.prompt }) : "",
        resultBars(tally),
        h("p", { class: "muted", text: t("question.answers", { n: tally.answered }) }));
    }
  };
  const refresh = () => {
    const step = state.step;
    if (!step || !choicesOf(step).length) {
      render();
      return;
    }
    // The closing result arrives pushed; asking again once it is known would only repeat it.
    if (tally && tally.step === step.id && !tally.open && tally.counts && !state.live) return;
    socket.request("answers.tally", { step: step.id })
      .then((ack) => { tally = latest(tally, ack.payload.tally); render(); })
      .catch(() => {});
  };
  state.subscribe(render);
  state.subscribe(refresh);
  // One screen asking every few seconds is nothing; hundreds of phones doing so would not be.
  setInterval(() => { if (state.live && choicesOf(state.step).length) refresh(); }, 3000);
  return {
    showResult(next) {
      tally = latest(tally, next);
      render();
    },
  };
}

/**
 * The console's live tally of the current step's question, overall and by table.
 * @param {HTMLElement} root
 * @param {{socket: TableeSocket, state: EventState, roomName: (id: string) => string}} options
 * @returns {{update: (tally: Tally) => void, refresh: () => void}}
 */
export function mountConsoleQuestion(root, { socket, state, roomName }) {
  /** @type {Map<string, Tally>} */
  const tallies = new Map();
  const render = () => {
    const step = state.step;
    const tally = step ? tallies.get(step.id) : undefined;
    if (!step || !choicesOf(step).length || !tally) {
      root.hidden = true;
      root.replaceChildren();
      return;
    }
    root.hidden = false;
    const byTable = (tally.rooms ?? []).map((r) => h("tr", {},
      h("th", { scope: "row", text: roomName(r.room) }),
      ...r.counts.map((c) => h("td", { text: String(c) }))));
    root.replaceChildren(
      h("h3", { text: t("console.question.heading", { title: step.title }) }),
      h("p", { class: "muted small", "data-testid": "question-answered",
        text: `${t("console.question.answered", { n: tally.answered, total: tally.eligible })} · `
          + t(tally.open ? "console.question.hidden" : "console.question.closed") }),
      resultBars(tally),
      byTable.length ? h("details", { class: "by-table" },
        h("summary", { text: t("console.question.byTable") }),
        h("table", { class: "by-table-grid" },
          h("thead", {}, h("tr", {}, h("th", { text: "" }),
            ...tally.choices.map((c) => h("th", { scope: "col", text: c })))),
          h("tbody", {}, ...byTable))) : "");
  };
  const refresh = () => {
    const step = state.step;
    if (!step || !choicesOf(step).length) {
      render();
      return;
    }
    socket.request("answers.tally", { step: step.id })
      .then((ack) => {
        tallies.set(step.id, latest(tallies.get(step.id), ack.payload.tally));
        render();
      })
      .catch(() => {});
  };
  let asked = /** @type {string | null} */ (null);
  state.subscribe(() => {
    const step = state.agenda.current.step;
    if (step !== asked) {
      asked = step;
      refresh();
    }
    render();
  });
  return {
    update(tally) {
      tallies.set(tally.step, latest(tallies.get(tally.step), tally));
      render();
    },
    refresh,
  };
}
