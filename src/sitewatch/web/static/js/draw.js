// Drawing and editing one polygon on a MapLibre map: click to add corners, drag a corner to
// move it, "finish" closes the ring. No plugin: a GeoJSON source and draggable markers.
import * as maplibregl from '/static/vendor/maplibre-gl.mjs';

export class PolygonDraw {
  constructor(map, id = 'draw') {
    this.map = map;
    this.id = id;
    this.points = [];
    this.markers = [];
    this.active = false;
    this.onClick = (ev) => {
      if (!this.active) return;
      this.points.push([ev.lngLat.lng, ev.lngLat.lat]);
      this.render();
    };
    map.on('click', this.onClick);
  }

  ensureLayers() {
    if (this.map.getSource(this.id)) return;
    this.map.addSource(this.id, { type: 'geojson', data: empty() });
    this.map.addLayer({ id: `${this.id}-fill`, type: 'fill', source: this.id,
      filter: ['==', ['geometry-type'], 'Polygon'],
      paint: { 'fill-color': '#f4a261', 'fill-opacity': 0.25 } });
    this.map.addLayer({ id: `${this.id}-line`, type: 'line', source: this.id,
      paint: { 'line-color': '#e76f51', 'line-width': 2, 'line-dasharray': [2, 1] } });
  }

  start(ring = []) {
    this.ensureLayers();
    this.points = ring.slice(0, ring.length > 1 && same(ring[0], ring[ring.length - 1])
      ? ring.length - 1 : ring.length).map((p) => [p[0], p[1]]);
    this.active = true;
    this.map.getCanvas().style.cursor = 'crosshair';
    this.render();
  }

  render() {
    for (const m of this.markers) m.remove();
    this.markers = this.points.map((p, i) => {
      const node = document.createElement('div');
      node.className = 'vertex';
      node.title = `corner ${i + 1} (drag to move)`;
      const m = new maplibregl.Marker({ element: node, draggable: true }).setLngLat(p).addTo(this.map);
      m.on('drag', () => {
        const ll = m.getLngLat();
        this.points[i] = [ll.lng, ll.lat];
        this.update();
      });
      return m;
    });
    this.update();
  }

  update() {
    const src = this.map.getSource(this.id);
    if (!src) return;
    const features = [];
    if (this.points.length >= 3) features.push(feature('Polygon', [this.ring()]));
    if (this.points.length >= 2) features.push(feature('LineString', this.points));
    src.setData({ type: 'FeatureCollection', features });
  }

  ring() {
    return [...this.points, this.points[0]];
  }

  polygon() {
    return this.points.length >= 3 ? { type: 'Polygon', coordinates: [this.ring()] } : null;
  }

  stop() {
    this.active = false;
    this.map.getCanvas().style.cursor = '';
    for (const m of this.markers) m.remove();
    this.markers = [];
    this.points = [];
    this.update();
  }
}

function same(a, b) { return a[0] === b[0] && a[1] === b[1]; }
function empty() { return { type: 'FeatureCollection', features: [] }; }
function feature(type, coordinates) {
  return { type: 'Feature', properties: {}, geometry: { type, coordinates } };
}
