// A themes update as a diff from the version held (`themes.diff`), applied to give the new
// snapshot: the same rules as the server's `nlp/theme_diff.py`. A 20,000-note event's
// snapshot is megabytes; its diff, kilobytes.

/** @typedef {import("./views/themes.js").Themes} Themes */

/**
 * The snapshot `diff` leads to from `held`, or null when it was made from another version
 * (the caller then asks for a snapshot again).
 * @param {Themes} held
 * @param {Record<string, any>} diff
 * @returns {Themes | null}
 */
export function applyThemesDiff(held, diff) {
  if (!held || held.version !== diff.base) return null;
  /** @type {Map<string, string | null>} note id → theme id, null when unthemed */
  const where = new Map();
  for (const t of held.themes) for (const n of t.note_ids) where.set(n, t.id);
  for (const u of held.unthemed || []) where.set(u.id, null);
  for (const n of diff.gone || []) where.delete(n);
  for (const [n, t] of Object.entries(diff.moved || {})) where.set(n, t);

  /** @type {Map<string, string[]>} */
  const byTheme = new Map(diff.themes.map((/** @type {any} */ t) => [t.id, []]));
  const kept = new Set();
  for (const t of held.themes) {
    const list = byTheme.get(t.id);
    if (!list) continue;
    for (const n of t.note_ids) {
      if (where.get(n) === t.id) {
        list.push(n);
        kept.add(n);
      }
    }
  }
  for (const [n, t] of where) {
    if (t === null || kept.has(n)) continue;
    const list = byTheme.get(t);
    if (!list) return null;  // a note sent to a theme the diff does not hold: resync
    list.push(n);
  }

  const entries = new Map((held.unthemed || []).map((u) => [u.id, u]));
  for (const u of diff.unthemed || []) entries.set(u.id, u);
  const unthemed = [];
  for (const [n, t] of where) {
    if (t !== null) continue;
    const entry = entries.get(n);
    if (!entry) return null;
    unthemed.push(entry);
  }
  unthemed.sort(unthemedOrder);

  /** @type {Record<string, number[]>} */
  const map = {};
  for (const [n, xy] of Object.entries(held.map || {})) if (where.has(n)) map[n] = xy;
  Object.assign(map, diff.map || {});

  const { base: _base, moved: _moved, gone: _gone, ...rest } = diff;
  return {
    ...rest,
    themes: diff.themes.map((/** @type {any} */ t) => ({ ...t, note_ids: byTheme.get(t.id) })),
    unthemed,
    map,
  };
}

/**
 * Unique ideas as snapshots list them: most distinct first, ties by id.
 * @param {{id: string, distinctness?: number}} a
 * @param {{id: string, distinctness?: number}} b
 */
function unthemedOrder(a, b) {
  const d = (b.distinctness ?? 0) - (a.distinctness ?? 0);
  if (d !== 0) return d;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
