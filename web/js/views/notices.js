// Banners above the wall: what the facilitators broadcast, "you have been moved to …", the
// one-minute warning and the call back to plenary. Each stays until dismissed or replaced.

import { h, shortTime } from "./dom.js";
import { t } from "../i18n.js";

/** @typedef {import("../event-state.js").Broadcast} Broadcast */

const DISMISSED_KEY = "tablee.dismissed-broadcasts";

export class Notices {
  /** @param {HTMLElement} root */
  constructor(root) {
    this.root = root;
    /** @type {Map<string, HTMLElement>} banners by kind (one of each kind at a time) */
    this.shown = new Map();
    this.dismissed = new Set(loadDismissed());
  }

  /**
   * Show a banner, replacing the one of the same kind.
   * @param {"broadcast" | "moved" | "step" | "help"} kind
   * @param {string} text
   * @param {{detail?: string, onDismiss?: () => void, tone?: "info" | "warn"}} [options]
   */
  show(kind, text, options = {}) {
    this.clear(kind);
    const close = h("button", { type: "button", class: "notice-close", "aria-label": t("notice.dismiss"),
      text: "×", onclick: () => { this.clear(kind); options.onDismiss?.(); } });
    const banner = h("div", { class: `notice notice-${kind} ${options.tone ?? "info"}`,
      role: kind === "help" ? "status" : "alert", "data-testid": `notice-${kind}` },
    h("div", { class: "notice-body" },
      h("p", { class: "notice-text", text }),
      options.detail ? h("p", { class: "notice-detail", text: options.detail }) : null),
    close);
    this.shown.set(kind, banner);
    this.root.prepend(banner);
  }

  /** @param {string} kind */
  clear(kind) {
    this.shown.get(kind)?.remove();
    this.shown.delete(kind);
  }

  /**
   * A broadcast, unless this browser already dismissed it.
   * @param {Broadcast} b
   */
  broadcast(b) {
    if (this.dismissed.has(b.id)) return;
    const to = t(b.room ? "notice.toTable" : "notice.toEveryone");
    this.show("broadcast", b.text, {
      detail: t("notice.from", { from: b.from, to, time: shortTime(b.at) }),
      onDismiss: () => {
        this.dismissed.add(b.id);
        saveDismissed([...this.dismissed]);
      },
    });
  }
}

/** @returns {string[]} */
function loadDismissed() {
  try {
    const ids = JSON.parse(localStorage.getItem(DISMISSED_KEY) || "[]");
    return Array.isArray(ids) ? ids.slice(-50) : [];
  } catch {
    return [];
  }
}

/** @param {string[]} ids */
function saveDismissed(ids) {
  try {
    localStorage.setItem(DISMISSED_KEY, JSON.stringify(ids.slice(-50)));
  } catch {
    // Storage full or disabled: the banner may come back after a reload.
  }
}
