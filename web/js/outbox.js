// Notes typed but not yet acknowledged by the server, kept in localStorage so a page reload or
// a dropped venue Wi-Fi never loses one. Each entry is resent with its original note id, which
// the server uses to recognise a retry.

/**
 * @typedef {{kind: "post" | "edit", room: string, id: string, text: string, queuedAt: number}}
 *   OutboxEntry
 */

export class Outbox {
  /**
   * @param {string} key localStorage key, one per participant
   * @param {Storage} [storage]
   */
  constructor(key, storage = window.localStorage) {
    this.key = key;
    this.storage = storage;
    /** @type {OutboxEntry[]} */
    this.entries = this.load();
    /** @type {Set<() => void>} */
    this.listeners = new Set();
  }

  /** @returns {OutboxEntry[]} */
  load() {
    try {
      const raw = JSON.parse(this.storage.getItem(this.key) || "[]");
      return Array.isArray(raw) ? raw.filter((e) => e && e.id && e.room && e.kind) : [];
    } catch {
      return [];
    }
  }

  save() {
    try {
      if (this.entries.length) this.storage.setItem(this.key, JSON.stringify(this.entries));
      else this.storage.removeItem(this.key);
    } catch {
      // Storage full or disabled: the entries stay in memory for this page.
    }
    for (const listener of this.listeners) listener();
  }

  /**
   * Call `listener` after every change.
   * @param {() => void} listener
   * @returns {() => void} unsubscribe
   */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @returns {number} entries waiting */
  get size() {
    return this.entries.length;
  }

  /**
   * @param {string} [room] only this room's entries
   * @returns {OutboxEntry[]} in the order they were typed
   */
  list(room) {
    return room === undefined ? [...this.entries] : this.entries.filter((e) => e.room === room);
  }

  /**
   * Queue a new note.
   * @param {string} room
   * @param {string} id
   * @param {string} text
   * @returns {OutboxEntry}
   */
  addPost(room, id, text) {
    const entry = { kind: /** @type {const} */ ("post"), room, id, text, queuedAt: Date.now() };
    this.entries.push(entry);
    this.save();
    return entry;
  }

  /**
   * Queue an edit. Editing a note whose post is still waiting changes that post instead.
   * @param {string} room
   * @param {string} id
   * @param {string} text
   * @returns {OutboxEntry}
   */
  addEdit(room, id, text) {
    const existing = this.entries.find((e) => e.id === id);
    if (existing) {
      existing.text = text;
      this.save();
      return existing;
    }
    const entry = { kind: /** @type {const} */ ("edit"), room, id, text, queuedAt: Date.now() };
    this.entries.push(entry);
    this.save();
    return entry;
  }

  /**
   * Forget an entry once acknowledged (or refused for good). An entry whose text changed since
   * it was sent stays, so the newer text is sent too.
   * @param {string} id
   * @param {string} [sentText] the text that was acknowledged
   * @returns {boolean} true when removed
   */
  settle(id, sentText) {
    const i = this.entries.findIndex((e) => e.id === id);
    if (i < 0) return false;
    const entry = this.entries[i];
    if (sentText !== undefined && entry.text !== sentText) {
      entry.kind = "edit";
      this.save();
      return false;
    }
    this.entries.splice(i, 1);
    this.save();
    return true;
  }

  /**
   * Drop a waiting entry (its note was deleted before it was sent).
   * @param {string} id
   */
  drop(id) {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.id !== id);
    if (this.entries.length !== before) this.save();
  }
}
