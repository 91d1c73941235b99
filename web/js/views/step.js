// The current step as everyone sees it: title, prompt, where it happens, and the countdown to
// the end the server set.

import { formatClock } from "../event-state.js";
import { h } from "./dom.js";
import { t } from "../i18n.js";

/** @typedef {import("../event-state.js").EventState} EventState */

const LAST_MINUTE_MS = 60_000;

/**
 * Draw the current step into `root` and keep its countdown running.
 * @param {HTMLElement} root
 * @param {EventState} state
 * @param {{idleText?: () => string, big?: boolean, tablesText?: string}} [options]
 *   `idleText`: what to say while no step runs, in the page's language now
 * @returns {() => void} stop
 */
export function mountStepCard(root, state, options = {}) {
  const { idleText = () => t("step.waiting"), big = false } = options;
  const mode = h("p", { class: "step-mode" });
  const title = h("h2", { class: "step-title" });
  const prompt = h("p", { class: "step-prompt" });
  const clock = h("p", { class: "step-clock", "data-testid": "countdown", "aria-live": "off" });
  const spoken = h("p", { class: "visually-hidden", "aria-live": "polite" });
  const card = h("section", { class: `step-card${big ? " big" : ""}`, "data-testid": "step",
    "aria-label": () => t("step.current") }, mode, title, prompt, clock, spoken);
  root.replaceChildren(card);
  let lastMinute = false;

  const tick = () => {
    const left = state.leftMs();
    const status = state.agenda.current.status;
    clock.hidden = left === null && status !== "ended";
    if (status === "ended") {
      clock.textContent = t("step.ended");
    } else if (left !== null) {
      clock.textContent = status === "paused" ? t("step.paused", { clock: formatClock(left) })
        : formatClock(left);
    }
    const nowLast = status === "running" && left !== null && left <= LAST_MINUTE_MS;
    if (nowLast && !lastMinute) spoken.textContent = t("step.oneMinuteSpoken");
    lastMinute = nowLast;
    card.classList.toggle("last-minute", nowLast);
  };

  const render = () => {
    const step = state.step;
    const a = state.agenda;
    card.dataset.status = a.current.status;
    card.dataset.phase = a.phase;
    if (!step) {
      mode.textContent = a.phase === "plenary" ? t("step.plenary") : "";
      title.textContent = idleText();
      prompt.hidden = true;
      clock.hidden = true;
      return;
    }
    const n = a.steps.findIndex((s) => s.id === step.id) + 1;
    const where = a.phase === "plenary" ? t("step.plenaryTogether")
      : options.tablesText ?? t("step.atTables");
    mode.textContent = t("step.position", { where, n, total: a.steps.length });
    title.textContent = step.title;
    prompt.textContent = step.prompt;
    prompt.hidden = !step.prompt;
    tick();
  };

  const stop = state.subscribe(render);
  const timer = setInterval(tick, 250);
  render();
  return () => {
    stop();
    clearInterval(timer);
  };
}
