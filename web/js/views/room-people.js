// What a console's table card shows beside the wall: who sits there (online or not), a help
// call waiting, the last activity, the table's QR codes, a way in, and a way onto the plenary
// screen. People are moved by dragging them onto another table, or with the menu next to their
// name.

import { errorText, t } from "../i18n.js";
import { composer } from "./composer.js";
import { showOnScreenButton } from "./console-spotlight.js";
import { helpCall } from "./console-run.js";
import { ago, h, relabel } from "./dom.js";

/** @typedef {import("../socket.js").TableeSocket} TableeSocket */
/** @typedef {import("../event-state.js").EventState} EventState */
/** @typedef {import("../event-state.js").Person} Person */
/** @typedef {import("../api.js").Room} Room */
/** @typedef {import("../wall.js").Member} Member */
/** @typedef {import("../wall.js").Note} Note */

const DRAG_TYPE = "application/x-tablee-person";

export class RoomPeople {
  /**
   * @param {{card: HTMLElement, room: Room, state: EventState, socket: TableeSocket,
   *          notify: (m: string) => void, rooms: () => Room[],
   *          showQr: (room: Room) => void, onShow?: (room: Room) => void}} options
   *   `onShow`: put the table's notes on the plenary screen
   */
  constructor({ card, room, state, socket, notify, rooms, showQr, onShow }) {
    this.card = card;
    this.room = room;
    this.state = state;
    this.socket = socket;
    this.notify = notify;
    this.rooms = rooms;
    /** @type {Set<string>} people with a live connection at this table */
    this.online = new Set();
    /** @type {string | null} */
    this.lastActivity = null;

    this.help = h("div", { class: "help-flag", role: "status", "data-testid": "help-flag" });
    this.people = h("ul", { class: "people", "data-testid": "people",
      "aria-label": () => t("console.table.people", { table: this.room.name }) });
    this.activity = h("span", { class: "muted small", "data-testid": "activity" });
    const qr = h("button", { type: "button", class: "link-button",
      text: () => t("console.table.qr"), onclick: () => showQr(this.room) });
    const enter = /** @type {HTMLButtonElement} */ (h("button", { type: "button",
      class: "link-button", "aria-expanded": "false", "data-testid": "enter",
      text: () => t(this.card.classList.contains("entered") ? "console.table.leave"
        : "console.table.enter"),
      onclick: () => this.toggleEnter(enter) }));
    const show = onShow ? showOnScreenButton(() => onShow(this.room)) : null;
    this.composerSlot = h("div", { class: "room-composer", hidden: true });
    const head = card.querySelector(".row");
    head?.after(this.help, h("div", { class: "row spread wrap room-tools" }, this.activity,
      h("span", { class: "row wrap" }, qr, enter, show)), this.people, this.composerSlot);

    card.addEventListener("dragover", (ev) => {
      if (!ev.dataTransfer?.types.includes(DRAG_TYPE)) return;
      ev.preventDefault();
      ev.dataTransfer.dropEffect = "move";
      card.classList.add("drop-target");
    });
    card.addEventListener("dragleave", (ev) => {
      if (!card.contains(/** @type {Node | null} */ (ev.relatedTarget))) {
        card.classList.remove("drop-target");
      }
    });
    card.addEventListener("drop", (ev) => {
      card.classList.remove("drop-target");
      const id = ev.dataTransfer?.getData(DRAG_TYPE);
      if (!id) return;
      ev.preventDefault();
      this.move(id, this.room.id);
    });
    state.subscribe(() => this.render());
    this.render();
  }

  /** @param {Room} room */
  setRoom(room) {
    this.room = room;
    this.render();
  }

  /**
   * The wall changed: who is connected, and when the last note was written or changed.
   * @param {Map<string, Member>} members
   * @param {Map<string, Note>} notes
   */
  setWall(members, notes) {
    this.online = new Set(members.keys());
    let last = null;
    for (const n of notes.values()) if (!last || n.updated_at > last) last = n.updated_at;
    this.lastActivity = last;
    this.render();
  }

  /** @param {HTMLButtonElement} button */
  toggleEnter(button) {
    const open = !this.card.classList.contains("entered");
    this.card.classList.toggle("entered", open);
    button.setAttribute("aria-expanded", String(open));
    relabel(button);
    this.composerSlot.hidden = !open;
    if (open && !this.composerSlot.childElementCount) {
      this.composerSlot.append(composer((text) => this.socket.post(this.room.id, text),
        `note-text-${this.room.id}`));
    }
    if (open) this.card.scrollIntoView({ block: "nearest" });
  }

  /** @param {string} person @param {string} room */
  move(person, room) {
    const p = this.state.people.get(person);
    if (!p || p.room_id === room) return;
    this.socket.request("people.move", { participant: person, room })
      .catch((err) => this.notify(t("console.person.moveFailed",
        { name: p.pseudonym, reason: errorText(err) })));
  }

  /** @param {Person} p @param {string} role */
  setRole(p, role) {
    this.socket.request("people.role", { participant: p.id, role })
      .catch((err) => this.notify(t("console.person.failed",
        { name: p.pseudonym, reason: errorText(err) })));
  }

  /**
   * Take someone out of the event, once the facilitator has confirmed it (and said whether
   * their notes go too).
   * @param {Person} p
   */
  async remove(p) {
    const choice = await confirmRemoval(p);
    if (!choice) return;
    this.socket.request("people.remove", { participant: p.id, delete_notes: choice.deleteNotes })
      .then((ack) => {
        const n = ack.payload.deleted_notes;
        this.notify(choice.deleteNotes
          ? t("console.person.removedWithNotes", { name: p.pseudonym, n })
          : t("console.person.removed", { name: p.pseudonym }));
      })
      .catch((err) => this.notify(t("console.person.removeFailed",
        { name: p.pseudonym, reason: errorText(err) })));
  }

  render() {
    const help = this.state.help.get(this.room.id);
    this.card.classList.toggle("needs-help", Boolean(help));
    this.help.hidden = !help;
    if (help) {
      this.help.replaceChildren(
        h("span", { class: "help-text", text: t("console.table.help",
          { call: helpCall(help.by.pseudonym, help.text, help.raised_at) }) }),
        h("button", { type: "button", class: "button small", text: t("console.help.handled"),
          "data-testid": "help-handled",
          onclick: () => this.socket.request("help.resolve", { room: this.room.id })
            .catch((err) => this.notify(errorText(err))) }));
    }
    this.activity.textContent = this.lastActivity
      ? t("console.table.lastNote", { ago: ago(this.lastActivity) }) : t("console.table.noNotes");
    const seated = this.state.seatedAt(this.room.id);
    if (!seated.length) {
      this.people.replaceChildren(h("li", { class: "empty", text: t("console.table.nobody") }));
      return;
    }
    this.people.replaceChildren(...seated.map((p) => this.chip(p)));
  }

  /**
   * @param {Person} p
   * @returns {HTMLElement}
   */
  chip(p) {
    const online = this.online.has(p.id);
    const host = p.role === "table_host";
    const idle = () => h("option", { value: "", text: "⋯" });
    // The choices are made when the menu is used: other tables' names in this card's text
    // would make the card look like theirs to anyone searching the page.
    const fill = () => {
      if (menu.options.length > 1) return;
      menu.append(...this.rooms().filter((r) => r.id !== this.room.id)
        .map((r) => h("option", { value: `room:${r.id}`,
          text: t("console.person.moveTo", { table: r.name }),
          disabled: r.members >= r.capacity })),
      h("option", { value: host ? "role:participant" : "role:table_host",
        text: t(host ? "console.person.unhost" : "console.person.host") }),
      h("option", { value: "remove:", text: t("console.person.remove") }));
    };
    const menu = /** @type {HTMLSelectElement} */ (h("select", {
      class: "person-menu", "aria-label": t("console.person.menu", { name: p.pseudonym }),
      "data-testid": "person-menu", onfocus: fill, onmousedown: fill, onpointerdown: fill,
      onblur: () => menu.replaceChildren(idle()),
      onchange: () => {
        const [kind, value] = menu.value.split(":");
        menu.replaceChildren(idle());
        if (kind === "room") this.move(p.id, value);
        else if (kind === "role") this.setRole(p, value);
        else if (kind === "remove") this.remove(p);
      } }, idle()));
    const chip = h("li", { class: `person${online ? " online" : ""}${host ? " host" : ""}`,
      draggable: "true", "data-person-id": p.id, "data-testid": "person",
      title: t(online ? "console.person.online" : "console.person.offline",
        { name: p.pseudonym }) },
    h("span", { class: "presence-dot", "aria-hidden": "true" }),
    h("span", { class: "person-name", text: p.pseudonym }),
    h("span", { class: "visually-hidden",
      text: ` (${t(online ? "console.person.onlineTag" : "console.person.offlineTag")})` }),
    host ? h("span", { class: "member-tag", text: t("console.person.hostTag") }) : null,
    menu);
    chip.addEventListener("dragstart", (ev) => {
      ev.dataTransfer?.setData(DRAG_TYPE, p.id);
      ev.dataTransfer?.setData("text/plain", p.pseudonym);
      if (ev.dataTransfer) ev.dataTransfer.effectAllowed = "move";
      chip.classList.add("dragging");
    });
    chip.addEventListener("dragend", () => chip.classList.remove("dragging"));
    return chip;
  }
}

/**
 * Ask before removing someone: it ends their connection and their link for good.
 * @param {Person} p
 * @returns {Promise<{deleteNotes: boolean} | null>} null if the facilitator thought better of it
 */
function confirmRemoval(p) {
  const dialog = /** @type {HTMLDialogElement} */ (h("dialog", { class: "confirm-dialog",
    "aria-labelledby": "remove-heading", "data-testid": "remove-dialog" }));
  const notes = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox",
    "data-testid": "remove-notes" }));
  dialog.append(
    h("h2", { id: "remove-heading", text: t("console.remove.heading", { name: p.pseudonym }) }),
    h("p", { text: t("console.remove.body") }),
    h("label", { class: "check" }, notes, " ",
      h("span", { text: t("console.remove.notes", { name: p.pseudonym }) })),
    h("form", { method: "dialog", class: "row" },
      h("button", { class: "button small danger", type: "submit", value: "remove",
        text: t("console.remove.confirm"), "data-testid": "remove-confirm" }),
      h("button", { class: "button small secondary", type: "submit", value: "cancel",
        text: t("note.cancel") })));
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "remove" ? { deleteNotes: notes.checked } : null);
      dialog.remove();
    });
    dialog.showModal();
  });
}
