// What a person at a table can do besides writing: call a facilitator, choose another table
// while seating is free, and propose a topic while the step collects them (open space).

import { h } from "./dom.js";
import { errorText, t } from "../i18n.js";

/** @typedef {import("../socket.js").TableeSocket} TableeSocket */
/** @typedef {import("../event-state.js").EventState} EventState */
/** @typedef {import("../api.js").Room} Room */

export class TableActions {
  /**
   * @param {HTMLElement} root
   * @param {{socket: TableeSocket, state: EventState, notify: (m: string) => void,
   *          role: string}} options
   */
  constructor(root, { socket, state, notify, role }) {
    this.socket = socket;
    this.state = state;
    this.notify = notify;
    this.role = role;
    /** @type {string | null} */
    this.room = null;
    /** @type {Room[]} */
    this.rooms = [];
    this.helpOpen = false;

    this.helpButton = /** @type {HTMLButtonElement} */ (h("button", {
      type: "button", class: "button secondary small", "data-testid": "help",
      onclick: () => this.callHelp(),
    }));
    this.helpNote = h("p", { class: "muted small", "aria-live": "polite" });
    this.chooser = /** @type {HTMLSelectElement} */ (h("select", { id: "table-choice",
      "aria-label": t("actions.chooseTable") }));
    this.chooseForm = h("form", { class: "inline-form", "data-testid": "choose-table",
      onsubmit: (/** @type {SubmitEvent} */ ev) => { ev.preventDefault(); this.choose(); } },
    h("label", { class: "label", for: "table-choice", text: t("actions.moveTable") }),
    this.chooser, h("button", { type: "submit", class: "button small", text: t("actions.go") }));
    this.topicInput = /** @type {HTMLInputElement} */ (h("input", { id: "topic-title",
      maxlength: "60", required: true, placeholder: t("actions.topicPlaceholder") }));
    this.topicForm = h("form", { class: "inline-form", "data-testid": "propose-topic",
      onsubmit: (/** @type {SubmitEvent} */ ev) => { ev.preventDefault(); this.propose(); } },
    h("label", { class: "label", for: "topic-title", text: t("actions.proposeTopic") }),
    this.topicInput, h("button", { type: "submit", class: "button small", text: t("actions.propose") }));
    root.replaceChildren(h("div", { class: "table-actions" },
      h("div", { class: "row wrap" }, this.helpButton, this.helpNote),
      this.chooseForm, this.topicForm));
    state.subscribe(() => this.render());
    this.render();
  }

  /** @param {string | null} room @param {Room[]} [rooms] */
  setRoom(room, rooms) {
    this.room = room;
    if (rooms) this.rooms = rooms;
    this.render();
  }

  /** @param {Room[]} rooms */
  setRooms(rooms) {
    this.rooms = rooms;
    this.render();
  }

  /** @param {boolean} open */
  setHelp(open) {
    this.helpOpen = open;
    this.render();
  }

  render() {
    const seated = this.role === "participant" || this.role === "table_host";
    this.helpButton.hidden = !seated || !this.room;
    this.helpButton.textContent = t(this.helpOpen ? "actions.helpComing" : "actions.needHelp");
    this.helpButton.disabled = this.helpOpen;
    this.helpNote.textContent = this.helpOpen ? t("actions.helpTold") : "";
    const a = this.state.agenda;
    this.chooseForm.hidden = !(a.free_seating && this.role === "participant");
    if (!this.chooseForm.hidden) {
      const options = this.rooms.filter((r) => r.id !== this.room).map((r) => h("option", {
        value: r.id, disabled: r.members >= r.capacity,
        text: r.members >= r.capacity ? t("actions.tableFull", { table: r.name })
          : t("actions.tableSeats", { table: r.name, members: r.members, capacity: r.capacity }),
      }));
      const before = this.chooser.value;
      this.chooser.replaceChildren(...options);
      if ([...this.chooser.options].some((o) => o.value === before)) this.chooser.value = before;
    }
    const step = this.state.step;
    this.topicForm.hidden = !(step?.topics && this.state.live && this.role !== "observer");
  }

  callHelp() {
    if (!this.room) return;
    this.socket.request("help.raise", { room: this.room })
      .then(() => this.setHelp(true))
      .catch((err) => this.notify(t("actions.helpFailed", { reason: errorText(err) })));
  }

  choose() {
    const room = this.chooser.value;
    if (!room) return;
    this.socket.request("seat.choose", { room })
      .catch((err) => this.notify(t("actions.moveFailed", { reason: errorText(err) })));
  }

  propose() {
    const title = this.topicInput.value.trim();
    if (!title) return;
    this.socket.request("topic.propose", { title })
      .then(() => {
        this.topicInput.value = "";
        this.notify(t("actions.proposed", { title }));
      })
      .catch((err) => this.notify(t("actions.proposeFailed", { reason: errorText(err) })));
  }
}
