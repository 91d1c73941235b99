// One room's live wall: keeps a Wall in step with the socket and draws it, with the notes
// still waiting in the outbox shown in place.

import { Wall } from "../wall.js";
import { NoteList } from "./notes.js";
import { renderMembers } from "./members.js";
import { chooseSimilar, similarHint } from "./similar-hint.js";
import { errorText, t } from "../i18n.js";

/** @typedef {import("../socket.js").TableeSocket} TableeSocket */
/** @typedef {import("../outbox.js").Outbox} Outbox */
/** @typedef {import("./notes.js").ShownNote} ShownNote */
/** @typedef {import("./similar-hint.js").SimilarNote} SimilarNote */

export class RoomWall {
  /**
   * @param {{room: string, socket: TableeSocket, outbox: Outbox, me: string, moderator?: boolean,
   *          pseudonym?: string, canLike?: boolean, list: HTMLElement, members?: HTMLElement,
   *          notify: (message: string) => void, onChange?: (wall: Wall) => void,
   *          emptyText?: string | (() => string), filter?: (note: ShownNote) => boolean,
   *          composer?: () => HTMLElement | null, onVotes?: (left: number | null) => void,
   *          onShow?: (note: ShownNote) => void}} options
   *   `composer`: where the focus goes back to when a duplicate hint closes under it;
   *   `onVotes`: told after each like how many votes the step leaves the reader;
   *   `onShow`: a button on each note puts it on the plenary screen
   */
  constructor({ room, socket, outbox, me, moderator = false, pseudonym = "You", canLike = true,
    list, members, notify, onChange,
    emptyText = t("wall.empty"), filter, composer, onVotes, onShow }) {
    this.room = room;
    this.socket = socket;
    this.outbox = outbox;
    this.me = me;
    this.pseudonym = pseudonym;
    this.membersEl = members;
    this.notify = notify;
    this.onChange = onChange;
    this.composer = composer;
    this.onVotes = onVotes;
    /** @type {Map<string, () => void>} open duplicate hints, by note: each one's dispose */
    this.hints = new Map();
    this.wall = new Wall();
    this.loaded = false;
    /** @type {((note: ShownNote) => boolean) | undefined} which notes to show (e.g. this step's) */
    this.filter = filter;
    // Everything this wall listens to, so close() can let go of it all.
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.list = new NoteList(list, {
      me,
      moderator,
      canLike,
      onLike: (note, like) => this.like(note.id, like),
      onEdit: (note, text) => socket.edit(room, note.id, text),
      onDelete: (note) => this.remove(/** @type {ShownNote} */ (note)),
      onShow,
    }, emptyText);

    /** @param {string} type @param {(d: any) => void} fn */
    const on = (type, fn) => socket.addEventListener(type, (ev) => {
      const detail = /** @type {CustomEvent} */ (ev).detail;
      if (detail?.room === room || detail?.entry?.room === room) fn(detail);
    }, { signal });
    on("snapshot", (d) => {
      this.loaded = true;
      this.wall.reset(d.notes, d.members);
      this.render();
    });
    on("members", (d) => { this.wall.setMembers(d.members); this.render(); });
    on("diff", (frame) => { this.wall.apply(frame); this.render(); });
    on("presence", (d) => { this.wall.presence(d.joins, d.leaves); this.render(); });
    on("acked", (d) => { if (d.note) this.wall.acknowledge(d.note); this.render(); });
    on("rejected", (d) => notify(t("wall.noteRejected", { reason: errorText(d.error) })));
    socket.addEventListener("status", () => this.list.setConnected(socket.state === "open"),
      { signal });
    const unsubscribe = outbox.subscribe(() => this.render());
    signal.addEventListener("abort", unsubscribe);
    signal.addEventListener("abort", () => {
      for (const dispose of this.hints.values()) dispose();
    });
    this.list.setConnected(socket.state === "open");
    this.render();
  }

  /** @returns {ShownNote[]} the wall, with waiting posts and edits shown as they will be */
  shown() {
    /** @type {Map<string, ShownNote>} */
    const notes = new Map(this.wall.notes);
    for (const e of this.outbox.list(this.room)) {
      const known = notes.get(e.id);
      if (known) notes.set(e.id, { ...known, text: e.text, pending: true });
      else if (e.kind === "post") {
        const at = new Date(e.queuedAt).toISOString();
        const author = { id: this.me, pseudonym: this.myName(), role: "participant" };
        notes.set(e.id, { id: e.id, room_id: this.room, author, text: e.text,
          created_at: at, updated_at: at, likes: [], pending: true });
      }
    }
    const shown = this.filter ? [...notes.values()].filter(this.filter) : [...notes.values()];
    return shown.sort((a, b) =>
      a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0);
  }

  /**
   * Show only the notes `filter` accepts (all, without one), e.g. the current step's.
   * @param {((note: ShownNote) => boolean) | undefined} filter
   */
  setFilter(filter) {
    this.filter = filter;
    this.render();
  }

  /** The page speaks another language: the wall says its notes' words again. */
  relabel() {
    this.list.relabel();
  }

  /** Stop following the room: this wall is not drawn or updated any more. */
  close() {
    this.abort.abort();
  }

  /** @returns {string} */
  myName() {
    return this.wall.members.get(this.me)?.pseudonym ?? this.pseudonym;
  }

  render() {
    this.list.render(this.shown());
    if (this.membersEl) renderMembers(this.membersEl, this.wall.members.values(), this.me);
    this.onChange?.(this.wall);
  }

  /** @param {string} id @param {boolean} like */
  like(id, like) {
    this.sendLike(id, like).catch((err) => this.notify(t(like ? "wall.likeFailed"
      : "wall.unlikeFailed", { reason: errorText(err) })));
  }

  /**
   * Like or unlike, telling `onVotes` how many votes the step leaves the reader.
   * @param {string} id @param {boolean} like
   * @returns {Promise<void>}
   */
  async sendLike(id, like) {
    try {
      const ack = await this.socket.request(like ? "note.like" : "note.unlike",
        { room: this.room, id });
      this.onVotes?.(ack.payload.votes_left ?? null);
    } catch (err) {
      if (/** @type {any} */ (err).code === "no_votes_left") this.onVotes?.(0);
      throw err;
    }
  }

  /**
   * How many votes the reader has left in this step (null: likes are not counted).
   * @param {number | null} left
   */
  setVotesLeft(left) {
    this.list.setVotesLeft(left);
  }

  /**
   * The server found notes very close to one just posted here (`note.similar`, sent to its
   * author alone): offer, under that note, to +1 the closest one instead.
   * @param {{note: string, similar: SimilarNote[]}} payload
   */
  offerSimilar({ note: id, similar }) {
    const mine = this.wall.notes.get(id);
    if (!mine || mine.author?.id !== this.me || !Array.isArray(similar)) return;
    const choice = chooseSimilar(similar, (other) => this.wall.notes.get(other), this.me);
    if (!choice) return;
    this.hints.get(id)?.();
    const close = () => {
      const el = this.list.extras.get(id);
      if (el?.contains(document.activeElement)) this.composer?.()?.focus();
      this.hints.get(id)?.();
      this.hints.delete(id);
      this.list.detach(id);
    };
    const { match, kind } = choice;
    const hint = similarHint(choice, {
      onDismiss: close,
      onTake: async () => {
        try {
          // Likes belong to the people at the note's table: only offered for this room's.
          if (kind === "table") {
            await this.sendLike(match.id, true);
          }
        } catch (err) {
          this.notify(t("wall.plusOneFailed", { reason: errorText(/** @type {Error} */ (err)) }));
          throw err;
        }
        try {
          await this.socket.request("note.delete", { room: this.room, id });
        } catch (err) {
          const reason = errorText(/** @type {Error} */ (err));
          this.notify(t(kind === "table" ? "wall.plusOneKept" : "wall.removeFailed", { reason }));
          close();
          return;
        }
        this.outbox.drop(id);
        close();
        this.notify(t(kind === "table" ? "wall.plusOneDone" : "wall.repeatRemoved"));
      },
    });
    if (this.list.attach(id, hint.el)) this.hints.set(id, hint.dispose);
    else hint.dispose();
  }

  /** @param {ShownNote} note */
  remove(note) {
    const waiting = this.outbox.list(this.room).find((e) => e.id === note.id);
    if (waiting?.kind === "post" && !this.wall.notes.has(note.id)) {
      this.outbox.drop(note.id);
      return;
    }
    if (!window.confirm(t("wall.deleteConfirm"))) return;
    this.socket.request("note.delete", { room: this.room, id: note.id })
      .then(() => this.outbox.drop(note.id))
      .catch((err) => this.notify(t("wall.deleteFailed", { reason: errorText(err) })));
  }
}
