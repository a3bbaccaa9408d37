// The watchlist map: every AOI coloured by its open (unreviewed) changes, a search by name or
// alias, and drawing a new site.
import * as maplibregl from '/static/vendor/maplibre-gl.mjs';
import { api, BLANK_STYLE, clear, el, showError, start } from './common.js';
import { PolygonDraw } from './draw.js';

const list = document.getElementById('site-list');
const search = document.getElementById('site-search');
const drawError = document.getElementById('draw-error');
const form = document.getElementById('site-form');
const btnNew = document.getElementById('draw-new');
const btnFinish = document.getElementById('draw-finish');
const btnCancel = document.getElementById('draw-cancel');
let sites = [];
let drawn = null;

const session = await start();
const map = new maplibregl.Map({
  container: 'map', style: BLANK_STYLE, center: [0, 20], zoom: 1.5,
  attributionControl: false, dragRotate: false,
});
map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }));
const draw = new PolygonDraw(map);
await new Promise((resolve) => (map.loaded() ? resolve() : map.once('load', resolve)));

map.addSource('sites', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
map.addLayer({ id: 'sites-fill', type: 'fill', source: 'sites', paint: {
  'fill-color': ['case', ['>', ['get', 'open'], 0], '#d62828', '#2a9d8f'],
  'fill-opacity': 0.18 } });
map.addLayer({ id: 'sites-line', type: 'line', source: 'sites', paint: {
  'line-color': ['case', ['>', ['get', 'open'], 0], '#9d0208', '#1b6f65'], 'line-width': 2 } });
map.on('click', 'sites-fill', (ev) => {
  if (draw.active || !ev.features.length) return;
  location.assign(`/sites/${ev.features[0].properties.id}`);
});
map.on('mouseenter', 'sites-fill', () => { if (!draw.active) map.getCanvas().style.cursor = 'pointer'; });
map.on('mouseleave', 'sites-fill', () => { if (!draw.active) map.getCanvas().style.cursor = ''; });

function matches(site, key) {
  if (!key) return true;
  const k = key.toLocaleLowerCase();
  return site.name.toLocaleLowerCase().includes(k)
    || site.aliases.some((a) => a.toLocaleLowerCase().includes(k));
}

const tags = [];
function render() {
  const key = search.value.trim();
  const shown = sites.filter((s) => matches(s, key));
  for (const t of tags.splice(0)) t.remove();
  for (const s of shown) {
    const node = el('div', { class: `site-tag${s.changes.unreviewed ? ' open' : ''}`, text: s.name,
      title: `${s.name}: ${s.changes.unreviewed} open change(s)` });
    node.addEventListener('click', () => { if (!draw.active) location.assign(`/sites/${s.id}`); });
    tags.push(new maplibregl.Marker({ element: node, anchor: 'bottom' })
      .setLngLat([(s.bbox_wgs84[0] + s.bbox_wgs84[2]) / 2, s.bbox_wgs84[3]]).addTo(map));
    if (s.preview_scene_id && !map.getSource(`pv-${s.id}`)) {
      map.addSource(`pv-${s.id}`, { type: 'raster', tileSize: 256, minzoom: 12, maxzoom: 22, bounds: s.bbox_wgs84,
        tiles: [`${location.origin}/api/scenes/${s.preview_scene_id}/tiles/{z}/{x}/{y}.png`] });
      map.addLayer({ id: `pv-${s.id}`, type: 'raster', source: `pv-${s.id}`, minzoom: 12 }, 'sites-fill');
    }
  }
  map.getSource('sites').setData({
    type: 'FeatureCollection',
    features: shown.map((s) => ({ type: 'Feature', id: s.id, geometry: s.aoi,
      properties: { id: s.id, open: s.changes.unreviewed } })),
  });
  clear(list);
  for (const s of shown) {
    const open = s.changes.unreviewed;
    list.append(el('li', { class: open ? 'open' : 'none', dataset: { siteId: s.id } },
      el('a', { href: `/sites/${s.id}`, class: 'site-link', text: s.name }),
      el('span', { class: `count ${open ? 'open' : ''}`, title: 'open changes awaiting review', text: String(open) }),
      s.aliases.length ? el('div', { class: 'aliases', text: s.aliases.join(' · ') }) : null,
      el('div', { class: 'meta', text: [s.kind, s.country].filter(Boolean).join(' · ') }),
      el('button', { type: 'button', class: 'link', text: 'show', onclick: () => fit([s]) }),
    ));
  }
  if (!shown.length) list.append(el('li', { class: 'empty', text: key ? 'no site matches' : 'no sites yet' }));
  return shown;
}

function fit(which) {
  if (!which.length) return;
  const b = which.reduce((acc, s) => [Math.min(acc[0], s.bbox_wgs84[0]), Math.min(acc[1], s.bbox_wgs84[1]),
    Math.max(acc[2], s.bbox_wgs84[2]), Math.max(acc[3], s.bbox_wgs84[3])], [180, 90, -180, -90]);
  map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 60, maxZoom: 17, duration: 0 });
}

async function load() {
  sites = await api('/api/sites');
  fit(render());
}

search.addEventListener('input', () => { const shown = render(); if (shown.length) fit(shown); });

const canEdit = session.user.role !== 'viewer';
btnNew.disabled = !canEdit;
if (!canEdit) document.getElementById('draw-hint').textContent = 'Viewers cannot add sites.';
btnNew.addEventListener('click', () => {
  drawError.textContent = '';
  draw.start();
  btnFinish.disabled = false; btnCancel.disabled = false; btnNew.disabled = true;
  form.hidden = true;
});
btnFinish.addEventListener('click', () => {
  drawn = draw.polygon();
  if (!drawn) { drawError.textContent = 'place at least three corners'; return; }
  draw.active = false;
  map.getCanvas().style.cursor = '';
  form.hidden = false;
  document.getElementById('new-name').focus();
});
function reset() {
  draw.stop(); drawn = null; form.hidden = true;
  btnFinish.disabled = true; btnCancel.disabled = true; btnNew.disabled = !canEdit;
}
btnCancel.addEventListener('click', () => { drawError.textContent = ''; reset(); });
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  drawError.textContent = '';
  const aliases = document.getElementById('new-aliases').value.split(',').map((a) => a.trim()).filter(Boolean);
  try {
    const site = await api('/api/sites', { method: 'POST', body: {
      name: document.getElementById('new-name').value, aoi: draw.polygon() || drawn,
      kind: document.getElementById('new-kind').value || null,
      country: document.getElementById('new-country').value || null, aliases } });
    reset();
    form.reset();
    await load();
    drawError.textContent = '';
    list.querySelector(`[data-site-id="${site.id}"]`)?.classList.add('added');
  } catch (err) {
    showError(drawError, err);
  }
});

await load();
document.body.dataset.ready = '1';
