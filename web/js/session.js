// What this browser remembers about the events it joined, in localStorage: the token (and,
// for a facilitator, the facilitator secret), so a reload or a lost connection keeps the seat.

/** @typedef {import("./api.js").Joined} Joined */
/** @typedef {Joined & {secret?: string, facilitatorLink?: string}} Session */

const PREFIX = "tablee.";

/**
 * @param {"participant" | "facilitator"} kind
 * @param {string} code join code
 * @returns {string}
 */
function keyOf(kind, code) {
  return `${PREFIX}${kind}.${code}`;
}

/**
 * @param {"participant" | "facilitator"} kind
 * @param {string} code
 * @returns {Session | null}
 */
export function loadSession(kind, code) {
  try {
    const data = JSON.parse(localStorage.getItem(keyOf(kind, code)) || "null");
    return data && typeof data.token === "string" ? data : null;
  } catch {
    return null;
  }
}

/**
 * @param {"participant" | "facilitator"} kind
 * @param {Session} session
 */
export function saveSession(kind, session) {
  localStorage.setItem(keyOf(kind, session.event.join_code), JSON.stringify(session));
  if (kind === "facilitator") {
    localStorage.setItem(PREFIX + "facilitating", session.event.join_code);
  }
}

/**
 * @param {"participant" | "facilitator"} kind
 * @param {string} code
 */
export function forgetSession(kind, code) {
  localStorage.removeItem(keyOf(kind, code));
  // The console must not reopen an event this browser no longer holds a seat in.
  if (kind === "facilitator" && lastFacilitated() === code) {
    localStorage.removeItem(PREFIX + "facilitating");
  }
}

/** @returns {string | null} the join code of the event last facilitated in this browser */
export function lastFacilitated() {
  return localStorage.getItem(PREFIX + "facilitating");
}

/**
 * @param {string} participantId
 * @returns {string} the localStorage key of this participant's outbox
 */
export function outboxKey(participantId) {
  return `${PREFIX}outbox.${participantId}`;
}

/**
 * Normalise what someone typed as a join code.
 * @param {string} raw
 * @returns {string}
 */
export function cleanCode(raw) {
  return raw.trim().replace(/^.*\/join\//, "").replace(/[^0-9a-z]/gi, "").toUpperCase();
}
