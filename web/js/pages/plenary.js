// The plenary screen for the projector: what a facilitator put on it (a theme, a table's notes
// or one note), the current step, its countdown, what was broadcast, the themes emerging
// across the tables, and beside them how to join (a QR code, the address, the code) for
// whoever arrives late in the hall. Read-only: it joins as an observer with the link a
// facilitator made from the console (`#code=…&token=…`; a fragment never reaches the server).

import { getEvent, socketUrl } from "../api.js";
import { EventState } from "../event-state.js";
import { errorText, language, pickLanguage, t, useLanguage } from "../i18n.js";
import { Outbox } from "../outbox.js";
import { cleanCode } from "../session.js";
import { TableeSocket } from "../socket.js";
import { byId, showOnly } from "../views/dom.js";
import { Notices } from "../views/notices.js";
import { mountScreenQuestion } from "../views/question.js";
import { mountStatus } from "../views/status.js";
import { latestOnly, renderSpotlight } from "../views/spotlight.js";
import { mountStepCard } from "../views/step.js";
import { renderThemes } from "../views/themes.js";

const KEY = "tablee.screen.";

/** @returns {{code: string, token: string | null}} */
function fromUrl() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const code = cleanCode(params.get("code") ?? "");
  let token = params.get("token");
  if (code && token) {
    localStorage.setItem(KEY + code, token);
    // Keep the token out of the address bar (and out of screenshots of the projector).
    history.replaceState(null, "", `#code=${encodeURIComponent(code)}`);
  } else if (code) {
    token = localStorage.getItem(KEY + code);
  }
  return { code, token };
}

/**
 * The hall's way in, beside everything else: the join page's QR code, the address to type and
 * the event's code. The screen works without it, should it not come.
 * @param {string} code
 */
async function showJoin(code) {
  try {
    const answer = await fetch(`/api/events/${encodeURIComponent(code)}/qr.svg`);
    if (!answer.ok) return;
    const link = new URL(answer.headers.get("X-Join-Link") ?? `/join/${code}`, location.href);
    const qr = /** @type {HTMLImageElement} */ (byId("join-qr"));
    qr.src = URL.createObjectURL(await answer.blob());
    qr.alt = t("plenary.joinQr");
    // People type the address on the landing page, then the code: shorter than the link.
    byId("join-address").textContent = link.host;
    byId("join-code").textContent = code;
    byId("join").hidden = false;
  } catch {
    // No QR code: the screen goes on without it.
  }
}

/** @param {string} message */
function fail(message) {
  const error = byId("screen-error");
  error.textContent = message;
  error.hidden = false;
}

async function main() {
  const { code, token } = fromUrl();
  if (!code || !token) {
    fail(t("plenary.openFromConsole"));
    return;
  }
  /** @type {{id: string, name: string}[]} */
  let rooms = [];
  try {
    const info = await getEvent(code);
    useLanguage(pickLanguage(info.event.language));
    byId("event-title").textContent = info.event.title;
    document.title = `Tablée: ${info.event.title}`;
    rooms = info.rooms;
  } catch (err) {
    fail(errorText(/** @type {import("../api.js").ApiError} */ (err)));
    return;
  }
  showOnly(byId("screen-view"));
  showJoin(code);
  const outbox = new Outbox(`${KEY}outbox`);
  const socket = new TableeSocket({ url: socketUrl(), token, outbox });
  mountStatus(byId("status"), socket, outbox);
  const state = new EventState();
  const notices = new Notices(byId("notices"));
  mountStepCard(byId("step-slot"), state, { big: true,
    idleText: () => t("plenary.welcome") });
  const question = mountScreenQuestion(byId("question"), { socket, state });
  const roomName = (/** @type {string} */ id) => rooms.find((r) => r.id === id)?.name
    ?? t("plenary.aTable");
  renderThemes(byId("themes"), null, roomName);

  /** @param {Event} ev @returns {any} */
  const detail = (ev) => /** @type {CustomEvent} */ (ev).detail;
  socket.addEventListener("hello", (ev) => { rooms = detail(ev).rooms || rooms; });
  socket.addEventListener("rooms", (ev) => { rooms = detail(ev) || rooms; });
  socket.addEventListener("removed", () => {
    localStorage.removeItem(KEY + code);
    byId("screen-view").hidden = true;
    byId("status").replaceChildren();
    fail(t("plenary.removed"));
  });
  socket.addEventListener("deleted", () => {
    localStorage.removeItem(KEY + code);
    byId("screen-view").hidden = true;
    byId("status").replaceChildren();
    fail(t("plenary.deleted"));
  });
  /** @type {import("../views/themes.js").Themes | null} */
  let themesNow = null;
  // The room sees the running step's themes first, each saying where it was written.
  const stepName = (/** @type {string} */ id) => state.stepTitle(id, t("themes.earlierStep"));
  const draw = () => renderThemes(byId("themes"), themesNow, roomName,
    { stepName, focusStep: state.agenda.current.step });
  let drawnFocus = state.agenda.current.step;
  state.subscribe(() => {
    if (state.agenda.current.step === drawnFocus) return;
    drawnFocus = state.agenda.current.step;
    if (themesNow) draw();
  });
  socket.addEventListener("themes", (ev) => {
    themesNow = detail(ev);
    draw();
  });
  const spotlight = latestOnly((shown) => renderSpotlight(byId("spotlight"), shown, { big: true }));
  socket.keep("event.watch", {}, (ack) => {
    state.setAgenda(ack.payload.agenda);
    spotlight(ack.payload.spotlight, ack.payload.spotlight_version);
    const latest = (ack.payload.broadcasts || [])[0];
    if (latest && !latest.room) notices.broadcast(latest);
  });
  socket.addEventListener("frame", (ev) => {
    const frame = detail(ev);
    switch (frame.type) {
      case "agenda.state":
        if (state.agenda.current.step !== frame.payload.current.step) notices.clear("step");
        state.setAgenda(frame.payload);
        break;
      case "broadcast":
        notices.broadcast(frame.payload);
        break;
      case "spotlight":
        spotlight(frame.payload.spotlight, frame.payload.version);
        break;
      case "answers.updated":
        question.showResult(frame.payload.tally ?? frame.payload);
        break;
      case "step.warning":
        notices.show("step", t("plenary.oneMinute"), { tone: "warn" });
        break;
      case "step.ended":
        notices.show("step", t(frame.payload.recalled ? "plenary.recalled" : "plenary.timeUp"),
          { tone: "warn" });
        break;
      case "event.updated":
        // The projector follows the event's language at once: nobody types on it.
        if (pickLanguage(frame.payload.event.language) !== language()) location.reload();
        break;
      default:
        break;
    }
  });
  socket.watchThemes();
  socket.start();
}

useLanguage(pickLanguage(null));
main();
