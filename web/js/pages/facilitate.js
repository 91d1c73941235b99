// The facilitator console: invite details, every table's wall live, new tables, themes, and
// running the event: agenda and timer, seating, broadcasts, help calls (console-event.js).
// It speaks the event's language, or the one its facilitator picked at the foot of the page,
// and changes language in place: nothing typed, opened or scrolled is lost.

import { deleteEvent, downloadReport, facilitate, getEvent, setEventLanguage, socketUrl }
  from "../api.js";
import { CONSOLE_PICK, chooseLanguage, errorText, language, languagePicker, pickLanguage, t,
  useLanguage } from "../i18n.js";
import { Outbox } from "../outbox.js";
import { cleanCode, forgetSession, lastFacilitated, loadSession, outboxKey, saveSession }
  from "../session.js";
import { TableeSocket } from "../socket.js";
import { byId, h, relabel, showOnly, speak } from "../views/dom.js";
import { mountConsoleEvent } from "../views/console-event.js";
import { RoomWall } from "../views/room.js";
import { mountStatus } from "../views/status.js";
import { renderThemes, roomThemesLine, themesByRoom, withPlacement } from "../views/themes.js";
import { notifier } from "../views/toast.js";

/** @typedef {import("../session.js").Session} Session */
/** @typedef {import("../api.js").Room} Room */
/** @typedef {import("../views/room-people.js").RoomPeople} RoomPeople */

const notify = notifier(byId("toast"));
const THEMES_REDRAW_MS = 250;

/** @type {Set<() => void>} what else to draw again when the console changes language */
const redraws = new Set();
/** The event's language, as last heard: the console speaks it unless its reader picked one. */
let eventLanguage = /** @type {string | null} */ (null);

/**
 * Speak the facilitator's pick, else the event's language, in place: the page's static words,
 * every view's words (relabel()), then what the views draw from the event's state.
 */
function speakConsole() {
  const code = pickLanguage(eventLanguage, CONSOLE_PICK);
  if (code === language()) return;
  useLanguage(code);
  relabel();
  for (const redraw of redraws) redraw();
}

/** @param {unknown} err @returns {string} what went wrong, in the console's language */
function reason(err) {
  if (!(err instanceof Error)) return String(err);
  return errorText(/** @type {Error & {code?: string}} */ (err));
}

/**
 * Read which event to open: `#CODE`, `?code=CODE`, or `#code=CODE&secret=SECRET` for a
 * co-facilitator (a fragment never reaches the server's logs, so the secret goes there).
 * @returns {{code: string, secret: string | null}}
 */
function fromUrl() {
  const raw = location.hash.replace(/^#/, "");
  const params = new URLSearchParams(raw.includes("=") ? raw : "");
  const code = params.get("code") ?? (raw.includes("=") ? "" : decodeURIComponent(raw));
  const query = new URLSearchParams(location.search).get("code") ?? "";
  return { code: cleanCode(code || query), secret: params.get("secret") };
}

/**
 * @param {string} code
 * @param {string} secret
 * @returns {string} an absolute link that opens this console on another device
 */
function cofacilitatorLink(code, secret) {
  const params = new URLSearchParams({ code, secret });
  return `${location.origin}/facilitate.html#${params}`;
}

/**
 * Someone opened a co-facilitator link on a device without a session: ask their name.
 * @param {string} code
 * @param {string} secret
 */
async function signIn(code, secret) {
  showOnly(byId("signin-view"), byId("console-view"));
  const form = /** @type {HTMLFormElement} */ (byId("signin-form"));
  const error = byId("signin-error");
  try {
    const { event } = await getEvent(code);
    eventLanguage = event.language;
    speakConsole();
    speak(byId("signin-event"), () => t("console.signin.invited", { title: event.title }));
    form.hidden = false;
  } catch (err) {
    speak(error, () => reason(err));
    error.hidden = false;
    return;
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const pseudonym = String(new FormData(form).get("pseudonym")).trim();
      const joined = await facilitate(code, secret, pseudonym);
      saveSession("facilitator", { ...joined, secret });
      history.replaceState(null, "", `#${encodeURIComponent(code)}`);
      openConsole({ ...joined, secret });
    } catch (err) {
      speak(error, () => t("console.signin.failed", { reason: reason(err) }));
      error.hidden = false;
    }
  });
}

/**
 * @param {Session} session
 */
function openConsole(session) {
  showOnly(byId("console-view"), byId("signin-view"));
  const { event, participant: me } = session;
  eventLanguage = event.language;
  speakConsole();
  const title = () => { document.title = t("console.pageTitle", { title: event.title }); };
  title();
  redraws.add(title);
  byId("event-heading").textContent = event.title;
  byId("me").textContent = me.pseudonym;
  byId("join-code").textContent = event.join_code;
  const joinUrl = `${location.origin}/join/${encodeURIComponent(event.join_code)}`;
  const link = /** @type {HTMLAnchorElement} */ (byId("join-link"));
  link.href = joinUrl;
  link.textContent = joinUrl;
  byId("copy-link").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(joinUrl);
      notify(t("console.linkCopied"));
    } catch {
      notify(t("console.copyRefused"));
    }
  });
  if (session.secret) {
    byId("cofac-link").textContent = cofacilitatorLink(event.join_code, session.secret);
    byId("cofac").hidden = false;
  }

  for (const button of document.querySelectorAll("[data-report]")) {
    const file = /** @type {HTMLElement} */ (button).dataset.report ?? "";
    button.addEventListener("click", async () => {
      try {
        await downloadReport(event.join_code, session.token, file);
      } catch (err) {
        notify(t("console.reports.failed", { reason: reason(err) }));
      }
    });
  }

  const outbox = new Outbox(outboxKey(me.id));
  const socket = new TableeSocket({ url: socketUrl(), token: session.token, outbox });
  mountErase(session, socket, notify);
  mountStatus(byId("status"), socket, outbox);
  /** @type {Set<RoomWall>} */
  const walls = new Set();

  /** @type {Map<string, {room: Room, title: HTMLElement, people: RoomPeople,
   *   themes: HTMLElement}>} */
  const cards = new Map();
  const grid = byId("rooms");
  // Running the event: agenda, timers, seating, broadcasts, help, topics, QR codes.
  const running = mountConsoleEvent({ socket, notify, code: event.join_code,
    rooms: () => [...cards.values()].map((c) => c.room) });
  redraws.add(() => running.state.changed());
  redraws.add(() => { for (const wall of walls) wall.relabel(); });

  /** @type {import("../views/themes.js").Themes | null} */
  let themesNow = null;
  // What each table is talking about, on its card.
  const showRoomThemes = () => {
    const byRoom = themesNow ? themesByRoom(themesNow) : new Map();
    for (const [id, card] of cards) {
      const line = roomThemesLine(byRoom.get(id));
      card.themes.textContent = line;
      card.themes.hidden = !line;
    }
  };
  /** @param {Room[]} rooms */
  const showRooms = (rooms) => {
    for (const room of rooms) {
      const known = cards.get(room.id);
      if (known) {
        known.room = room;
        known.title.textContent = room.name;
        known.people.setRoom(room);
        continue;
      }
      const title = h("h3", { text: room.name });
      const count = h("span", { class: "badge" });
      const list = h("ul", { class: "notes compact", "data-testid": "room-notes" });
      const themes = h("p", { class: "room-themes muted", "data-testid": "room-themes",
        hidden: true });
      const card = h("article",
        { class: "room-card", "data-room-id": room.id, "data-testid": "room" },
        h("div", { class: "row spread" }, title, count), themes, list);
      grid.append(card);
      const people = running.decorate(card, room);
      cards.set(room.id, { room, title, people, themes });
      const wall = new RoomWall({
        room: room.id, socket, outbox, me: me.id, moderator: true, canLike: false, list, notify,
        emptyText: () => t("note.none"), filter: running.noteFilter(),
        onShow: (note) => running.spotlight({ note: note.id }),
        onChange: (shown) => {
          const present = [...shown.members.values()].filter((m) => m.id !== me.id).length;
          const notes = shown.notes.size;
          speak(count, () => `${t("console.tables.people", { n: present })} · `
            + t("themes.notes", { n: notes }));
          people.setWall(shown.members, shown.notes);
        },
      });
      walls.add(wall);
      running.track(wall);
      socket.watchRoom(room.id);
    }
    running.roomsChanged();
    if (themesNow) showRoomThemes();
  };
  /** @param {string} id @returns {string} */
  const roomName = (id) => cards.get(id)?.room.name ?? t("plenary.aTable");

  showRooms(session.rooms);
  renderThemes(byId("themes"), null, roomName);
  /** @param {Event} ev @returns {any} */
  const detail = (ev) => /** @type {CustomEvent} */ (ev).detail;
  socket.addEventListener("hello", (ev) => showRooms(detail(ev).rooms || []));
  mountEventLanguage(session, socket, detail);
  socket.addEventListener("rooms", (ev) => showRooms(detail(ev) || []));
  let themesSeen = false;
  let themesOff = false;
  // Live themes: each snapshot, each note placed in between, and the facilitator's edits.
  /** @type {import("../views/themes.js").Steer} */
  const steer = (type, payload) => {
    socket.request(type, payload)
      .catch((err) => notify(t("console.themes.failed", { reason: errorText(err) })));
  };
  const stepName = (/** @type {string} */ id) =>
    running.state.stepTitle(id, t("themes.earlierStep"));
  const everyStep = /** @type {HTMLInputElement} */ (byId("all-steps"));
  // As the tables' walls do: the running step's themes first, unless every step is asked for.
  const focusStep = () => (everyStep.checked ? null : running.state.agenda.current.step);
  const drawThemes = () => {
    renderThemes(byId("themes"), themesNow, roomName, { steer, roomCount: cards.size, stepName,
      focusStep: focusStep(), show: (id) => running.spotlight({ theme: id }),
      showNote: (id) => running.spotlight({ note: id }) });
    showRoomThemes();
  };
  // Notes are placed one by one, ten a second on a busy event: redraw at most every
  // THEMES_REDRAW_MS, the latest state each time.
  let drawDue = false;
  let drawnAt = 0;
  const scheduleDraw = () => {
    if (drawDue) return;
    drawDue = true;
    const wait = Math.max(0, drawnAt + THEMES_REDRAW_MS - performance.now());
    setTimeout(() => requestAnimationFrame(() => {
      drawDue = false;
      drawnAt = performance.now();
      drawThemes();
    }), wait);
  };
  let drawnFocus = focusStep();
  const refocus = () => {
    if (focusStep() === drawnFocus) return;
    drawnFocus = focusStep();
    if (themesNow) scheduleDraw();
  };
  everyStep.addEventListener("change", refocus);
  running.state.subscribe(refocus);
  redraws.add(() => {
    if (themesNow) drawThemes();
    else if (!themesOff) renderThemes(byId("themes"), null, roomName);
  });
  socket.addEventListener("themes", (ev) => {
    themesSeen = true;
    themesNow = detail(ev);
    scheduleDraw();
  });
  socket.addEventListener("frame", (ev) => {
    const frame = detail(ev);
    if (frame?.type === "themes.assigned" && themesNow) {
      themesNow = withPlacement(themesNow, frame.payload);
      scheduleDraw();
    }
  });
  socket.addEventListener("themes-watch", (ev) => {
    if (detail(ev)?.worker === false && !themesSeen) {
      themesOff = true;
      byId("themes").replaceChildren(
        h("p", { class: "muted", text: () => t("console.themes.off") }));
    }
  });
  socket.addEventListener("room-error", (ev) => {
    const { room, error } = detail(ev);
    notify(room ? t("console.tables.error", { table: roomName(room), reason: errorText(error) })
      : t("console.themes.failed", { reason: errorText(error) }));
  });

  const roomForm = /** @type {HTMLFormElement} */ (byId("room-form"));
  roomForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = new FormData(roomForm);
    try {
      const ack = await socket.request("room.create", {
        name: String(data.get("name")).trim(), capacity: Number(data.get("capacity")),
      });
      showRooms([ack.payload.room]);
      roomForm.reset();
    } catch (err) {
      notify(t("console.tables.addFailed", { reason: reason(err) }));
    }
  });

  socket.watchThemes();
  socket.start();
}

/**
 * The participants' pages' language: the event's as stored, from the session, then from each
 * `hello` (a session kept in this browser may be older than a co-facilitator's change) and
 * each `event.updated`. The console follows it, unless its facilitator picked a language.
 * @param {Session} session
 * @param {TableeSocket} socket
 * @param {(ev: Event) => any} detail
 */
function mountEventLanguage(session, socket, detail) {
  const select = /** @type {HTMLSelectElement} */ (byId("event-language"));
  let stored = session.event.language || "en";
  select.value = stored;
  /** @param {{language?: string} | undefined} event */
  const show = (event) => {
    if (!event?.language) return;
    stored = event.language;
    if (!select.disabled) select.value = stored;
    if (event.language !== session.event.language) {
      session.event = { ...session.event, language: event.language };
      saveSession("facilitator", session);
    }
    eventLanguage = event.language;
    speakConsole();
  };
  socket.addEventListener("hello", (ev) => show(detail(ev).event));
  socket.addEventListener("frame", (ev) => {
    const frame = detail(ev);
    if (frame?.type === "event.updated") show(frame.payload.event);
  });
  select.addEventListener("change", async () => {
    const wanted = select.value;
    select.disabled = true;
    try {
      const { event } = await setEventLanguage(session.event.join_code, session.token, wanted);
      const name = select.selectedOptions[0]?.textContent ?? wanted;
      select.disabled = false;
      show(event);
      notify(t("console.eventLanguageSet", { language: name }));
    } catch (err) {
      notify(t("console.eventLanguageFailed", { reason: reason(err) }));
    } finally {
      select.disabled = false;
      select.value = stored;
    }
  });
}

function main() {
  useLanguage(pickLanguage(null, CONSOLE_PICK));
  byId("language-slot").replaceChildren(languagePicker((code) => {
    chooseLanguage(code, CONSOLE_PICK);
    speakConsole();
  }, { store: CONSOLE_PICK, label: "console.language" }));
  const { code: hashCode, secret } = fromUrl();
  const code = hashCode || lastFacilitated() || "";
  const session = code ? loadSession("facilitator", code) : null;
  if (session && (!secret || secret === session.secret)) {
    if (!hashCode) history.replaceState(null, "", `#${encodeURIComponent(code)}`);
    openConsole(session);
  } else if (code && secret) {
    signIn(code, secret);
  } else {
    showOnly(byId("signin-view"), byId("console-view"));
    const error = byId("signin-error");
    speak(error, () => t("console.signin.none"));
    error.hidden = false;
  }
}

main();


/**
 * Deleting the event for good: the facilitator types its code again, the server erases it and
 * closes every page of it, this one included (the socket's `deleted`). What was erased is said.
 * @param {Session} session
 * @param {TableeSocket} socket
 * @param {(message: string) => void} notify
 */
function mountErase(session, socket, notify) {
  const code = session.event.join_code;
  /** @type {Record<string, number> | null} */
  let erased = null;
  const showDeleted = () => {
    forgetSession("facilitator", code);
    localStorage.removeItem(outboxKey(session.participant.id));
    showOnly(byId("deleted-view"), byId("console-view"));
    byId("status").replaceChildren();
    if (erased) {
      byId("deleted-body").textContent = t("console.deleted.counts", {
        notes: t("console.deleted.notes", { n: erased.notes ?? 0 }),
        people: t("console.deleted.people", { n: erased.participants ?? 0 }),
        answers: t("console.deleted.answers", { n: erased.answers ?? 0 }),
      });
    }
    byId("deleted-heading").focus();
  };
  socket.addEventListener("deleted", showDeleted);
  const form = /** @type {HTMLFormElement} */ (byId("erase-form"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const typed = cleanCode(/** @type {HTMLInputElement} */ (byId("erase-code")).value);
    if (typed !== code) {
      notify(t("console.erase.wrongCode", { code }));
      return;
    }
    try {
      erased = (await deleteEvent(code, session.token, typed)).deleted;
    } catch (err) {
      notify(t("console.erase.failed", { reason: reason(err) }));
      return;
    }
    // The server's close may have come first: say now what was erased.
    socket.deleted();
    showDeleted();
  });
}
