// The theme map (a canvas) and growth charts (small SVG lines) for the facilitator's themes
// panel.

import { t } from "../i18n.js";

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

const MAP_CSS_PX = 320; // drawn at this size (times the screen's pixel ratio); CSS scales it
const PAD = 8;
const HIT_PX = 6; // how near the pointer must be to a point to name it

/**
 * Every note as a point: filled in its theme's colour, unique ideas as hollow grey rings.
 * Positions come from the server, aligned between updates, so points stay where they were.
 * Drawn on a canvas: an event of 20,000 notes is 20,000 points, redrawn at every update,
 * which as SVG elements took the browser over a second each time. Hovering a point names
 * its theme (or the unique idea's text) in a tooltip.
 * @param {{map?: Record<string, number[]>, themes: {id: string, label: string, note_ids: string[],
 *   hidden?: boolean}[], unthemed: {id: string, text: string}[]}} themes
 * @returns {HTMLElement}
 */
export function themeMap(themes) {
  const map = themes.map || {};
  const ratio = window.devicePixelRatio || 1;
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(MAP_CSS_PX * ratio);
  canvas.height = Math.round(MAP_CSS_PX * ratio);
  canvas.className = "theme-map";
  const ctx = canvas.getContext("2d");
  /** @param {number} v */
  const at = (v) => PAD + ((v + 1) / 2) * (MAP_CSS_PX - 2 * PAD);
  /** @type {{x: number, y: number, name: string}[]} */
  const points = [];
  /**
   * Add the notes that have a place on the map to the current path, and to `points` for
   * the tooltip; how many there were.
   * @param {string[]} ids
   * @param {number} radius
   * @param {(id: string) => string} name
   */
  const plot = (ids, radius, name) => {
    let placed = 0;
    for (const id of ids) {
      const p = map[id];
      if (!p) continue;
      const x = at(p[0]);
      const y = at(-p[1]);
      points.push({ x, y, name: name(id) });
      placed += 1;
      ctx?.moveTo((x + radius) * ratio, y * ratio);
      ctx?.arc(x * ratio, y * ratio, radius * ratio, 0, 2 * Math.PI);
    }
    return placed;
  };
  let themed = 0;
  themes.themes.forEach((t, k) => {
    if (t.hidden) return;
    ctx?.beginPath();
    if (ctx) ctx.fillStyle = themeColour(k);
    themed += plot(t.note_ids, 2.6, () => t.label);
    ctx?.fill();
  });
  const unthemed = themes.unthemed || [];
  const texts = new Map(unthemed.map((n) => [n.id, n.text]));
  ctx?.beginPath();
  if (ctx) {
    ctx.strokeStyle = "#777";
    ctx.lineWidth = 1.2 * ratio;
  }
  const unique = plot(unthemed.map((n) => n.id), 3, (id) => texts.get(id) || "");
  ctx?.stroke();
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", t("themes.map", { n: themed + unique, themed, unique }));
  canvas.dataset.testid = "theme-map";
  canvas.dataset.points = String(points.length);

  const tip = document.createElement("div");
  tip.className = "map-tip";
  tip.hidden = true;
  tip.dataset.testid = "map-tip";
  canvas.addEventListener("pointermove", (ev) => {
    const box = canvas.getBoundingClientRect();
    const scale = MAP_CSS_PX / (box.width || MAP_CSS_PX);
    const x = (ev.clientX - box.left) * scale;
    const y = (ev.clientY - box.top) * scale;
    let best = null;
    let bestD = (HIT_PX * scale) ** 2;
    for (const p of points) {
      const d = (p.x - x) ** 2 + (p.y - y) ** 2;
      if (d <= bestD) {
        best = p;
        bestD = d;
      }
    }
    tip.hidden = !best;
    if (best) {
      tip.textContent = best.name;
      tip.style.left = `${ev.clientX - box.left + 12}px`;
      tip.style.top = `${ev.clientY - box.top + 12}px`;
    }
  });
  canvas.addEventListener("pointerleave", () => { tip.hidden = true; });
  const frame = document.createElement("div");
  frame.className = "theme-map-frame";
  frame.append(canvas, tip);
  return frame;
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
    role: "img", "aria-label": t("themes.grew", { n: growth[growth.length - 1] }) });
  svg.append(s("polyline", { points: points.join(" "), fill: "none", stroke: colour,
    "stroke-width": 1.5 }));
  return svg;
}
