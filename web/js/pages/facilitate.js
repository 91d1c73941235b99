// The facilitator console: invite details, every table's wall live, new tables, themes, and
// running the event: agenda and timer, seating, broadcasts, help calls (console-event.js).

import { downloadReport, facilitate, getEvent, setEventLanguage, socketUrl } from "../api.js";
import { Outbox } from "../outbox.js";
import { cleanCode, lastFacilitated, loadSession, outboxKey, saveSession } from "../session.js";
import { TableeSocket } from "../socket.js";
import { byId, h, plural, showOnly } from "../views/dom.js";
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
    byId("signin-event").textContent = `You were invited to facilitate “${event.title}”.`;
    form.hidden = false;
  } catch (err) {
    error.textContent = /** @type {Error} */ (err).message;
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
      error.textContent = `That did not work: ${/** @type {Error} */ (err).message}`;
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
  document.title = `Tablée: ${event.title} (facilitator)`;
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
      notify("Join link copied.");
    } catch {
      notify("Copy the link by hand: the browser refused.");
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
        notify(`The report could not be made: ${err instanceof Error ? err.message : err}`);
      }
    });
  }

  const outbox = new Outbox(outboxKey(me.id));
  const socket = new TableeSocket({ url: socketUrl(), token: session.token, outbox });
  mountStatus(byId("status"), socket, outbox);

  /** @type {Map<string, {room: Room, title: HTMLElement, people: RoomPeople,
   *   themes: HTMLElement}>} */
  const cards = new Map();
  const grid = byId("rooms");
  // Running the event: agenda, timers, seating, broadcasts, help, topics, QR codes.
  const running = mountConsoleEvent({ socket, notify, code: event.join_code,
    rooms: () => [...cards.values()].map((c) => c.room) });

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
      running.track(new RoomWall({
        room: room.id, socket, outbox, me: me.id, moderator: true, canLike: false, list, notify,
        emptyText: "No notes yet.", filter: running.noteFilter(),
        onChange: (wall) => {
          const present = [...wall.members.values()].filter((m) => m.id !== me.id).length;
          count.textContent = `${plural(present, "person", "people")} · `
            + plural(wall.notes.size, "note", "notes");
          people.setWall(wall.members, wall.notes);
        },
      }));
      socket.watchRoom(room.id);
    }
    running.roomsChanged();
    if (themesNow) showRoomThemes();
  };
  /** @param {string} id @returns {string} */
  const roomName = (id) => cards.get(id)?.room.name ?? "a table";

  showRooms(session.rooms);
  renderThemes(byId("themes"), null, roomName);
  /** @param {Event} ev @returns {any} */
  const detail = (ev) => /** @type {CustomEvent} */ (ev).detail;
  socket.addEventListener("hello", (ev) => showRooms(detail(ev).rooms || []));
  mountLanguage(session, socket, detail);
  socket.addEventListener("rooms", (ev) => showRooms(detail(ev) || []));
  let themesSeen = false;
  // Live themes: each snapshot, each note placed in between, and the facilitator's edits.
  /** @type {import("../views/themes.js").Steer} */
  const steer = (type, payload) => {
    socket.request(type, payload).catch((err) => notify(`Themes: ${err.message}`));
  };
  const stepName = (/** @type {string} */ id) => running.state.stepTitle(id);
  const everyStep = /** @type {HTMLInputElement} */ (byId("all-steps"));
  // As the tables' walls do: the running step's themes first, unless every step is asked for.
  const focusStep = () => (everyStep.checked ? null : running.state.agenda.current.step);
  const drawThemes = () => {
    renderThemes(byId("themes"), themesNow, roomName,
      { steer, roomCount: cards.size, stepName, focusStep: focusStep() });
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
      byId("themes").replaceChildren(
        h("p", { class: "muted", text: "Themes are turned off on this server." }));
    }
  });
  socket.addEventListener("room-error", (ev) => {
    const { room, error } = detail(ev);
    notify(room ? `${roomName(room)}: ${error.message}` : `Themes: ${error.message}`);
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
      notify(`The table could not be added: ${/** @type {Error} */ (err).message}`);
    }
  });

  socket.watchThemes();
  socket.start();
}

/**
 * The participants' pages' language: the event's as stored, from the session, then from each
 * `hello` (a session kept in this browser may be older than a co-facilitator's change) and
 * each `event.updated`. The console itself stays in English.
 * @param {Session} session
 * @param {TableeSocket} socket
 * @param {(ev: Event) => any} detail
 */
function mountLanguage(session, socket, detail) {
  const select = /** @type {HTMLSelectElement} */ (byId("event-language"));
  let stored = session.event.language || "en";
  select.value = stored;
  /** @param {{language?: string} | undefined} event */
  const show = (event) => {
    if (!event?.language) return;
    stored = event.language;
    if (!select.disabled) select.value = stored;
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
      stored = event.language;
      const name = select.selectedOptions[0]?.textContent ?? wanted;
      notify(`Participants' pages now speak ${name}.`);
    } catch (err) {
      notify(`The language could not be changed: ${err instanceof Error ? err.message : err}`);
    } finally {
      select.disabled = false;
      select.value = stored;
    }
  });
}

function main() {
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
    error.textContent = "This browser is not facilitating that event. Open the facilitator link "
      + "you were given, or create an event from the home page.";
    error.hidden = false;
  }
}

main();
