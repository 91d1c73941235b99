// One room's wall as the client knows it: notes and the members present. Pure: fed with
// snapshots and in-order diffs by socket.js, read by the views.

/**
 * @typedef {{id: string, pseudonym: string, role: string}} Member
 * @typedef {{id: string, room_id: string, author: Member, text: string, created_at: string,
 *            updated_at: string, likes: string[], step_id?: string | null}} Note
 */

export class Wall {
  constructor() {
    /** @type {Map<string, Note>} */
    this.notes = new Map();
    /** @type {Map<string, Member>} */
    this.members = new Map();
    /** @type {Set<string>} ids deleted, so a late acknowledgement cannot bring one back */
    this.deleted = new Set();
  }

  /**
   * Replace everything with a snapshot.
   * @param {Note[]} notes
   * @param {Member[]} members
   */
  reset(notes, members) {
    this.notes = new Map(notes.map((n) => [n.id, n]));
    this.setMembers(members);
  }

  /** @param {Member[]} members */
  setMembers(members) {
    this.members = new Map(members.map((m) => [m.id, m]));
  }

  /**
   * @param {Member[]} joins
   * @param {Member[]} leaves
   */
  presence(joins, leaves) {
    for (const m of leaves) this.members.delete(m.id);
    for (const m of joins) this.members.set(m.id, m);
  }

  /**
   * Apply one room diff (already checked to be next in sequence).
   * @param {{type: string, payload: any}} frame
   */
  apply(frame) {
    const p = frame.payload;
    switch (frame.type) {
      case "note.added":
      case "note.edited":
        if (!this.deleted.has(p.note.id)) this.notes.set(p.note.id, p.note);
        break;
      case "note.deleted":
        this.notes.delete(p.id);
        this.deleted.add(p.id);
        break;
      case "note.likes": {
        const note = this.notes.get(p.id);
        if (note) this.notes.set(p.id, { ...note, likes: p.likes });
        break;
      }
      default:
        break;
    }
  }

  /**
   * A note known from an acknowledgement; the diff that follows carries the same note.
   * @param {Note} note
   */
  acknowledge(note) {
    if (!this.notes.has(note.id) && !this.deleted.has(note.id)) this.notes.set(note.id, note);
  }

  /** @returns {Note[]} newest first */
  sorted() {
    return [...this.notes.values()].sort((a, b) =>
      a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0);
  }
}
