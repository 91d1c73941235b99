// The HTTP half of the protocol: create, look up, join and change an event.

/**
 * @typedef {{id: string, title: string, join_code: string, language: string}} Event
 *   language: what the participants' pages speak, "en", "fr" or "de"
 */
/** @typedef {{id: string, name: string, capacity: number, members: number}} Room */
/** @typedef {{id: string, pseudonym: string, role: string, room_id: string | null}} Participant */
/** @typedef {{event: Event, rooms: Room[], token: string, participant: Participant}} Joined */

/** An HTTP error answer: `{"error": {"code", "message"}}`, or the network failing. */
export class ApiError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {number} status 0 when the server could not be reached
   */
  constructor(code, message, status) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

/**
 * @param {string} method
 * @param {string} path
 * @param {any} [body]
 * @param {string} [token] sent as `Authorization: Bearer …`, for what only staff may do
 * @returns {Promise<any>}
 */
async function call(method, path, body, token) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  /** @type {Response} */
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError("network", "The server cannot be reached. Check your connection.", 0);
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    // An answer without a JSON body, e.g. from a proxy.
  }
  if (!res.ok) {
    const err = data?.error ?? {};
    throw new ApiError(err.code ?? "http_" + res.status, err.message ?? res.statusText, res.status);
  }
  return data;
}

/**
 * @typedef {Joined & {facilitator_secret: string, links: {facilitator: string, join: string}}}
 *   Created
 */

/**
 * @param {{title: string, rooms: number | string[], capacity: number, pseudonym: string,
 *          template?: string, language?: string}} body
 *   language: the participants' pages' ("en", "fr", "de"; the server's default is English)
 * @returns {Promise<Created>}
 */
export function createEvent(body) {
  return call("POST", "/api/events", body);
}

/**
 * @param {string} code join code
 * @returns {Promise<{event: Event, rooms: Room[]}>}
 */
export function getEvent(code) {
  return call("GET", `/api/events/${encodeURIComponent(code)}`);
}

/**
 * @param {string} code
 * @param {string} pseudonym
 * @param {string | null} roomId null: the least-full room
 * @param {"participant" | "table_host"} [role] a table host types for a table in the hall
 * @returns {Promise<Joined>}
 */
export function joinEvent(code, pseudonym, roomId, role = "participant") {
  /** @type {Record<string, string>} */
  const body = { pseudonym };
  if (roomId) body.room_id = roomId;
  if (role !== "participant") body.role = role;
  return call("POST", `/api/events/${encodeURIComponent(code)}/join`, body);
}

/**
 * Join as a facilitator with the event's facilitator secret.
 * @param {string} code
 * @param {string} secret
 * @param {string} pseudonym
 * @returns {Promise<Joined>}
 */
export function facilitate(code, secret, pseudonym) {
  return call("POST", `/api/events/${encodeURIComponent(code)}/facilitate`, { secret, pseudonym });
}

/**
 * Change the language of the event's participant pages; only its facilitators may. Every
 * open page of the event then receives `event.updated`.
 * @param {string} code join code
 * @param {string} token the facilitator's token
 * @param {string} language "en", "fr" or "de"
 * @returns {Promise<{event: Event}>}
 */
export function setEventLanguage(code, token, language) {
  return call("PATCH", `/api/events/${encodeURIComponent(code)}`, { language }, token);
}

/**
 * Erase the event and everything in it, for good; `confirm` is its join code, typed again.
 * @param {string} code
 * @param {string} token the facilitator's token
 * @param {string} confirm
 * @returns {Promise<{deleted: Record<string, number>}>} how many notes, people, tables and
 *   answers were erased
 */
export function deleteEvent(code, token, confirm) {
  return call("DELETE", `/api/events/${encodeURIComponent(code)}`, { confirm }, token);
}

/** @returns {string} the WebSocket URL of this server */
export function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

/**
 * @typedef {{name: string, title: string, description: string, suggested_tables: number,
 *            suggested_capacity: number, steps: {title: string, mode: string,
 *            duration: number}[],
 *            words?: Record<string, {title: string, description: string}>}} Template
 */

/** @returns {Promise<{templates: Template[]}>} the formats an agenda can start from */
export function getTemplates() {
  return call("GET", "/api/templates");
}

/**
 * Save one of the event's report files (`themes.md`, `notes.csv`, `answers.csv`), which only its staff
 * may read: fetched with the token, then handed to the browser as a download.
 * @param {string} code
 * @param {string} token
 * @param {string} file
 */
export async function downloadReport(code, token, file) {
  /** @type {Response} */
  let res;
  try {
    res = await fetch(`/api/events/${encodeURIComponent(code)}/report/${file}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
  } catch {
    throw new ApiError("network", "The server cannot be reached. Check your connection.", 0);
  }
  if (!res.ok) {
    const err = (await res.json().catch(() => null))?.error ?? {};
    throw new ApiError(err.code ?? "http_" + res.status, err.message ?? res.statusText, res.status);
  }
  const named = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") ?? "");
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = named ? named[1] : file;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
