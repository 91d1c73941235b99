// What a page knows about the running event beside the walls: the agenda and its clock, and,
// on the console, the people, help calls and topics. Pure: fed with acks and frames, read by
// the views, which subscribe to changes.

/**
 * @typedef {{id: string, title: string, prompt: string, mode: "plenary" | "breakouts",
 *            duration: number, assign: string, recall: boolean, topics: boolean,
 *            votes?: number, choices?: string[]}} Step
 * @typedef {{step: string | null, status: "idle" | "running" | "paused" | "ended",
 *            started_at: string | null, ends_at: string | null, remaining: number | null,
 *            warned: boolean}} Current
 * @typedef {{version: number, steps: Step[], current: Current, phase: "plenary" | "breakouts",
 *            free_seating: boolean, server_time: string}} Agenda
 * @typedef {{id: string, pseudonym: string, role: string, room_id: string | null}} Person
 * @typedef {{id: string, room: string, text: string, by: {id: string, pseudonym: string},
 *            raised_at: string}} Help
 * @typedef {{id: string, title: string, by: {id: string, pseudonym: string},
 *            status: "proposed" | "accepted" | "declined", room: string | null, at: string}} Topic
 * @typedef {{id: string, room: string | null, text: string, from: string, at: string}} Broadcast
 */

/** @type {Agenda} */
const EMPTY = {
  version: -1, steps: [], phase: "plenary", free_seating: false, server_time: "",
  current: { step: null, status: "idle", started_at: null, ends_at: null, remaining: null,
    warned: false },
};

export class EventState {
  constructor() {
    /** @type {Agenda} */
    this.agenda = EMPTY;
    /** server clock minus this browser's clock, in ms, measured when the agenda arrived */
    this.offsetMs = 0;
    /** @type {Map<string, Person>} */
    this.people = new Map();
    /** @type {Map<string, Help>} open help calls by room */
    this.help = new Map();
    /** @type {Map<string, Topic>} */
    this.topics = new Map();
    /** @type {Set<() => void>} */
    this.listeners = new Set();
  }

  /**
   * @param {() => void} listener called after every change
   * @returns {() => void} unsubscribe
   */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed() {
    for (const listener of this.listeners) listener();
  }

  /**
   * Take an agenda from an ack or an `agenda.state`; an older version than the one held is a
   * frame that arrived late, and is ignored.
   * @param {Agenda} agenda
   * @param {number} [receivedAt] this browser's clock when it arrived
   * @returns {boolean} whether it was newer
   */
  setAgenda(agenda, receivedAt = Date.now()) {
    if (!agenda || agenda.version < this.agenda.version) return false;
    this.agenda = agenda;
    const server = Date.parse(agenda.server_time);
    if (!Number.isNaN(server)) this.offsetMs = server - receivedAt;
    this.changed();
    return true;
  }

  /**
   * A step's title, for notes and themes that name the step they were written in.
   * @param {string} id
   * @param {string} otherwise what to call a step no longer on the agenda
   * @returns {string}
   */
  stepTitle(id, otherwise) {
    return this.agenda.steps.find((s) => s.id === id)?.title ?? otherwise;
  }

  /** @returns {Step | null} */
  get step() {
    return this.agenda.steps.find((s) => s.id === this.agenda.current.step) ?? null;
  }

  /** @returns {Step | null} the step after the current one (the first if none ran) */
  get nextStep() {
    const steps = this.agenda.steps;
    const current = this.agenda.current.step;
    if (!current) return steps[0] ?? null;
    const i = steps.findIndex((s) => s.id === current);
    return i >= 0 ? steps[i + 1] ?? null : null;
  }

  /** @returns {boolean} a step is running or paused */
  get live() {
    const status = this.agenda.current.status;
    return status === "running" || status === "paused";
  }

  /**
   * Time left in the current step, by the server's clock.
   * @param {number} [now] this browser's clock
   * @returns {number | null} milliseconds, or null when there is no timer
   */
  leftMs(now = Date.now()) {
    const c = this.agenda.current;
    if (c.status === "paused") return c.remaining === null ? null : c.remaining * 1000;
    if (c.status !== "running" || !c.ends_at) return null;
    return Math.max(0, Date.parse(c.ends_at) - (now + this.offsetMs));
  }

  /**
   * @param {Person[]} people as stored now
   * @param {string[]} [removed] ids of people taken out of the event: forgotten
   */
  upsertPeople(people, removed = []) {
    for (const p of people) this.people.set(p.id, p);
    for (const id of removed) this.people.delete(id);
    this.changed();
  }

  /** @param {string} room @param {Help | null} help */
  setHelp(room, help) {
    if (help) this.help.set(room, help);
    else this.help.delete(room);
    this.changed();
  }

  /** @param {Topic[]} topics */
  upsertTopics(topics) {
    for (const t of topics) this.topics.set(t.id, t);
    this.changed();
  }

  /**
   * @param {string} room
   * @returns {Person[]} the people seated there, by name
   */
  seatedAt(room) {
    return [...this.people.values()].filter((p) => p.room_id === room)
      .sort((a, b) => a.pseudonym.localeCompare(b.pseudonym));
  }
}

/**
 * "12:05", or "1:02:05" past an hour; never negative.
 * @param {number} ms
 * @returns {string}
 */
export function formatClock(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}
