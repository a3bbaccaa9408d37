// Two synchronised maps of the same ground: a swipe (the after map over the before map,
// clipped at the slider) or side by side. Scenes come as tiles from /api/scenes/ID/tiles.
// Only the after map's canvas is clipped: its labels and its pointer events cover the whole
// view (the maps are synchronised), so the labels exist once.
import * as maplibregl from '/static/vendor/maplibre-gl.mjs';
import { BLANK_STYLE, el, fmtArea } from './common.js';

const STATUS_COLOUR = { unreviewed: '#ffd166', confirmed: '#ef233c', rejected: '#e9ecef' };

export class Compare {
  constructor({ container, before, after, range = null, line = null, onPick = null }) {
    this.container = container;
    this.range = range;
    this.line = line;
    this.onPick = onPick;
    this.markers = [];
    this.labels = true;
    const opts = { style: BLANK_STYLE, center: [0, 0], zoom: 2, attributionControl: false,
      dragRotate: false, pitchWithRotate: false };
    this.before = new maplibregl.Map({ ...opts, container: before });
    this.after = new maplibregl.Map({ ...opts, container: after });
    this.after.addControl(new maplibregl.NavigationControl({ showCompass: false }));
    this.after.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
    this.maps = [this.before, this.after];
    this.ready = Promise.all(this.maps.map((m) => new Promise((ok) => (m.loaded() ? ok() : m.once('load', ok)))));
    let syncing = false;
    for (const [a, b] of [[this.before, this.after], [this.after, this.before]]) {
      a.on('move', () => {
        if (syncing) return;
        syncing = true;
        b.jumpTo({ center: a.getCenter(), zoom: a.getZoom(), bearing: a.getBearing(), pitch: a.getPitch() });
        syncing = false;
      });
    }
    if (range) range.addEventListener('input', () => this.setSwipe(Number(range.value)));
    this.ready.then(() => {
      for (const m of this.maps) {
        m.addSource('aoi', { type: 'geojson', data: emptyFc() });
        m.addSource('dets', { type: 'geojson', data: emptyFc() });
        m.addLayer({ id: 'aoi-line', type: 'line', source: 'aoi',
          paint: { 'line-color': '#1d3557', 'line-width': 2, 'line-dasharray': [3, 2] } });
        m.addLayer({ id: 'dets-fill', type: 'fill', source: 'dets', paint: {
          'fill-color': ['match', ['get', 'status'], 'confirmed', STATUS_COLOUR.confirmed,
            'rejected', STATUS_COLOUR.rejected, STATUS_COLOUR.unreviewed],
          'fill-opacity': ['case', ['boolean', ['get', 'focus'], false], 0.35, 0.08] } });
        m.addLayer({ id: 'dets-line', type: 'line', source: 'dets', paint: {
          'line-color': ['match', ['get', 'status'], 'confirmed', STATUS_COLOUR.confirmed,
            'rejected', STATUS_COLOUR.rejected, STATUS_COLOUR.unreviewed],
          'line-width': ['case', ['boolean', ['get', 'focus'], false], 3.5, 2],
          'line-dasharray': ['case', ['==', ['get', 'status'], 'rejected'], ['literal', [2, 1]], ['literal', [1, 0]]] } });
        m.on('click', 'dets-fill', (ev) => {
          if (this.onPick && ev.features.length) this.onPick(ev.features[0].properties.ref);
        });
      }
    });
    this.setSwipe(range ? Number(range.value) : 50);
  }

  setMode(mode) {
    this.container.classList.toggle('swipe', mode === 'swipe');
    this.container.classList.toggle('side', mode === 'side');
    if (mode === 'swipe') this.setSwipe(this.range ? Number(this.range.value) : 50);
    else this.after.getCanvas().style.clipPath = 'none';
    for (const m of this.maps) m.resize();
    this.before.jumpTo({ center: this.after.getCenter(), zoom: this.after.getZoom() });
  }

  setSwipe(pct) {
    const p = Math.max(0, Math.min(100, pct));
    if (this.container.classList.contains('swipe')) {
      this.after.getCanvas().style.clipPath = `inset(0 0 0 ${p}%)`;
    }
    if (this.line) this.line.style.left = `${p}%`;
    this.container.dataset.swipe = String(p);
  }

  fit(bbox, maxZoom = 19) {
    const b = [[bbox[0], bbox[1]], [bbox[2], bbox[3]]];
    for (const m of this.maps) m.fitBounds(b, { padding: 30, maxZoom, duration: 0 });
  }

  setScene(which, scene, bbox) {
    const m = which === 'before' ? this.before : this.after;
    if (m.getLayer('scene')) m.removeLayer('scene');
    if (m.getSource('scene')) m.removeSource('scene');
    if (!scene) return;
    m.addSource('scene', { type: 'raster', tileSize: 256, maxzoom: 22, bounds: bbox,
      tiles: [`${location.origin}/api/scenes/${scene.id}/tiles/{z}/{x}/{y}.png`] });
    m.addLayer({ id: 'scene', type: 'raster', source: 'scene', paint: { 'raster-fade-duration': 0 } },
      m.getLayer('aoi-line') ? 'aoi-line' : undefined);
  }

  setAoi(geometry) {
    for (const m of this.maps) m.getSource('aoi')?.setData(geometry ? { type: 'Feature', properties: {}, geometry } : emptyFc());
  }

  // detections: [{ref, polygon, centroid, area_m2, area_uncertainty_m2, review_status, change_type}]
  setDetections(dets, focus = null) {
    const fc = { type: 'FeatureCollection', features: dets.map((d) => ({ type: 'Feature',
      geometry: d.polygon, properties: { ref: d.ref, status: d.review_status, focus: d.ref === focus } })) };
    for (const m of this.maps) m.getSource('dets')?.setData(fc);
    for (const mk of this.markers) mk.remove();
    this.markers = [];
    if (!this.labels) return;
    for (const d of dets) {
      if (!d.centroid) continue;
      for (const m of [this.after]) {
        const unc = d.area_uncertainty_m2 === null ? '' : ` ±${fmtArea(d.area_uncertainty_m2)}`;
        const node = el('div', { class: `det-label ${d.review_status}${d.ref === focus ? ' focus' : ''}`,
          title: `${d.ref} (${d.change_ref || 'untracked'}) ${d.change_type}, ${d.review_status}` },
        el('b', { text: d.ref }), el('span', { text: ` ${fmtArea(d.area_m2)}${unc} m²` }));
        node.addEventListener('click', (ev) => { ev.stopPropagation(); if (this.onPick) this.onPick(d.ref); });
        this.markers.push(new maplibregl.Marker({ element: node, anchor: 'center' }).setLngLat(d.centroid).addTo(m));
      }
    }
  }

  showLabels(on) { this.labels = on; }
}

function emptyFc() { return { type: 'FeatureCollection', features: [] }; }
