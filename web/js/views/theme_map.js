// The theme map and growth charts: small SVG drawings for the facilitator's themes panel.

const SVG = "http://www.w3.org/2000/svg";
// Distinguishable on white and for the common colour-vision deficiencies (Okabe–Ito).
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
  "#000000"];

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attrs
 * @returns {SVGElement}
 */
function s(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** @param {number} index */
export function themeColour(index) {
  return PALETTE[index % PALETTE.length];
}

/**
 * Every note as a point: filled in its theme's colour, unique ideas as hollow grey rings.
 * Positions come from the server, aligned between updates, so points stay where they were.
 * @param {{map?: Record<string, number[]>, themes: {id: string, label: string, note_ids: string[],
 *   hidden?: boolean}[], unthemed: {id: string, text: string}[]}} themes
 * @returns {SVGElement}
 */
export function themeMap(themes) {
  const size = 240;
  const pad = 6;
  const svg = s("svg", { viewBox: `0 0 ${size} ${size}`, class: "theme-map", role: "img",
    "aria-label": "Map of the notes, coloured by theme", "data-testid": "theme-map" });
  svg.append(s("rect", { x: 0, y: 0, width: size, height: size, class: "theme-map-bg" }));
  const map = themes.map || {};
  /** @param {number} v */
  const at = (v) => pad + ((v + 1) / 2) * (size - 2 * pad);
  themes.themes.forEach((t, k) => {
    if (t.hidden) return;
    for (const id of t.note_ids) {
      const p = map[id];
      if (!p) continue;
      const dot = s("circle", { cx: at(p[0]), cy: at(-p[1]), r: 2.6, fill: themeColour(k) });
      dot.append(s("title", {}));
      /** @type {SVGElement} */ (dot.lastChild).textContent = t.label;
      svg.append(dot);
    }
  });
  for (const n of themes.unthemed || []) {
    const p = map[n.id];
    if (!p) continue;
    const ring = s("circle", { cx: at(p[0]), cy: at(-p[1]), r: 3, class: "theme-map-unique" });
    ring.append(s("title", {}));
    /** @type {SVGElement} */ (ring.lastChild).textContent = n.text;
    svg.append(ring);
  }
  return svg;
}

/**
 * A theme's size over the event so far, as a small line.
 * @param {number[]} growth sizes at evenly spaced moments, the last one now
 * @param {string} colour
 * @returns {SVGElement | null}
 */
export function growthChart(growth, colour) {
  if (!growth || growth.length < 2) return null;
  const w = 80;
  const hgt = 18;
  const top = Math.max(1, ...growth);
  const points = growth.map((v, i) =>
    `${((i / (growth.length - 1)) * w).toFixed(1)},${(hgt - (v / top) * (hgt - 2) - 1).toFixed(1)}`);
  const svg = s("svg", { viewBox: `0 0 ${w} ${hgt}`, width: w, height: hgt, class: "growth",
    role: "img", "aria-label": `Grew to ${growth[growth.length - 1]} notes` });
  svg.append(s("polyline", { points: points.join(" "), fill: "none", stroke: colour,
    "stroke-width": 1.5 }));
  return svg;
}
