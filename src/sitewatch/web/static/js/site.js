// The site page: facts, the before/after compare over any two dates with the detections of
// a run, the detections table, the timeline (clickable dates), scenes with provenance, runs.
import { api, clear, el, fmtArea, fmtScore, showError, start, statusBadge } from './common.js';
import { Compare } from './compare.js';
import { PolygonDraw } from './draw.js';

const siteId = Number(location.pathname.split('/').filter(Boolean)[1]);
const $ = (id) => document.getElementById(id);
let data = null;
let run = null;
let focus = null;

const overview = api(`/api/sites/${siteId}/overview`); // in parallel with the session check
overview.catch(() => {});
await start();
const compare = new Compare({ container: $('compare'), before: 'map-before', after: 'map-after',
  range: $('swipe'), line: $('swipe-line'), onPick: pick });
await compare.ready;
data = await overview;
run = data.run;
renderHead();
renderScenes();
renderRuns();
renderSources();
fillSceneSelects();
compare.setAoi(data.site.aoi);
compare.fit(data.site.bbox_wgs84, 21);
showPair();
renderDetections();
renderStructures();
loadTimeline();
performance.mark('ready'); // make bench: navigation start -> interactive
document.body.dataset.ready = '1';

function sceneById(id) { return data.scenes.find((s) => s.id === id); }
function sceneLabel(s) { return `${s.acquired} · ${s.provenance.provider} (#${s.id})`; }

function renderHead() {
  const s = data.site;
  document.title = `${s.name} · sitewatch`;
  $('site-name').textContent = s.name;
  const c = s.changes;
  const facts = [s.kind, s.country, s.aliases.length ? `also ${s.aliases.join(', ')}` : '',
    `${data.scenes.length} scenes`, `${data.runs.length} runs`].filter(Boolean).join(' · ');
  clear($('site-facts')).append(
    `${facts} · changes: `,
    el('span', { class: 'badge unreviewed', text: `${c.unreviewed} open` }), ' ',
    el('span', { class: 'badge confirmed', text: `${c.confirmed} confirmed` }), ' ',
    el('span', { class: 'badge rejected', text: `${c.rejected} rejected` }), ' ',
    el('a', { href: `/review?site=${s.id}`, text: 'review them' }),
  );
  if (s.notes) $('site-facts').append(el('div', { class: 'notes', text: s.notes }));
}

function renderScenes() {
  const tb = clear($('scene-table').tBodies[0]);
  for (const s of data.scenes) {
    const p = s.provenance;
    tb.append(el('tr', {},
      el('td', { text: `#${s.id}` }), el('td', { text: s.acquired }),
      el('td', { text: p.provider }), el('td', { text: p.credit }),
      el('td', { text: p.licence || '—' }),
      el('td', { class: 'mono', title: `${p.source}\nsha256 ${p.sha256}`, text: `${s.file} · ${p.sha256.slice(0, 12)}…` }),
      el('td', { text: s.gsd_m.toFixed(2) })));
  }
}

function renderRuns() {
  const tb = clear($('run-table').tBodies[0]);
  const sel = clear($('run-select'));
  if (!data.runs.length) sel.append(el('option', { value: '', text: 'no runs yet' }));
  for (const r of data.runs) {
    const b = sceneById(r.before_scene_id); const a = sceneById(r.after_scene_id);
    tb.append(el('tr', { class: run && r.id === run.id ? 'current' : '' },
      el('td', { text: r.ref }), el('td', { text: r.method }),
      el('td', { text: `${b ? b.acquired : '#' + r.before_scene_id} → ${a ? a.acquired : '#' + r.after_scene_id}` }),
      el('td', { text: String(r.detection_count) }),
      el('td', { text: (r.finished_at || '').replace('T', ' ').slice(0, 16) }),
      el('td', {}, el('button', { type: 'button', class: 'link', text: 'show', onclick: () => chooseRun(r.ref) }))));
    sel.append(el('option', { value: r.ref, text: `${r.ref} ${r.method}`, selected: run && r.id === run.id }));
  }
}

function renderSources() {
  const ul = clear($('source-list'));
  if (!data.site.sources.length) ul.append(el('li', { class: 'hint', text: 'no texts cite this site' }));
  for (const src of data.site.sources) {
    ul.append(el('li', {}, el('b', { text: src.title || src.file }),
      src.published ? ` (${src.published})` : '',
      ...src.quotes.slice(0, 3).map((q) => el('blockquote', { text: q.quote || '' }))));
  }
}

function fillSceneSelects() {
  for (const id of ['before-scene', 'after-scene']) {
    const sel = clear($(id));
    for (const s of data.scenes) sel.append(el('option', { value: String(s.id), text: sceneLabel(s) }));
  }
  const [first, last] = [data.scenes[0], data.scenes[data.scenes.length - 1]];
  $('before-scene').value = String(run ? run.before_scene_id : first?.id ?? '');
  $('after-scene').value = String(run ? run.after_scene_id : last?.id ?? '');
}

function showPair() {
  const b = sceneById(Number($('before-scene').value));
  const a = sceneById(Number($('after-scene').value));
  compare.setScene('before', b, data.site.bbox_wgs84);
  compare.setScene('after', a, data.site.bbox_wgs84);
  $('before-tag').textContent = b ? `before ${b.acquired}` : 'no scene';
  $('after-tag').textContent = a ? `after ${a.acquired}` : 'no scene';
  const note = [];
  if (run && (run.before_scene_id !== b?.id || run.after_scene_id !== a?.id)) {
    note.push(`detections are those of ${run.ref} (${sceneById(run.before_scene_id)?.acquired} → ${sceneById(run.after_scene_id)?.acquired})`);
  }
  if (!data.runs.length) note.push('no analysis yet: scenes appear once the site is analysed (sitewatch analyze)');
  $('compare-note').textContent = note.join(' · ');
}

function renderDetections() {
  const dets = run ? run.detections : [];
  compare.setDetections($('show-dets').checked ? dets : [], focus);
  $('det-count').textContent = run ? `${dets.length} in ${run.ref}` : '';
  const tb = clear($('det-table').tBodies[0]);
  for (const d of dets) {
    tb.append(el('tr', { class: d.ref === focus ? 'current' : '', dataset: { ref: d.ref }, onclick: () => pick(d.ref) },
      el('td', { class: 'mono', text: d.ref }),
      el('td', {}, d.change_ref ? el('a', { href: `/review?change=${d.change_ref}`, text: d.change_ref }) : '—'),
      el('td', { text: d.change_type }),
      el('td', { class: 'num', text: fmtArea(d.area_m2) }),
      el('td', { class: 'num', text: fmtArea(d.area_uncertainty_m2) }),
      el('td', { class: 'num', text: fmtScore(d.score) }),
      el('td', {}, statusBadge(d.review_status))));
  }
}

// the run's buildings (new, extended, demolished; cleared ground) and the standing ones
// they are sized against: run.summary.structures (learned detector's runs only)
function renderStructures() {
  const doc = run?.summary?.structures;
  const items = doc && Array.isArray(doc.items) ? doc.items : [];
  const changed = items.filter((i) => i.kind !== 'unchanged');
  const cited = new Set(changed.flatMap((i) => (i.relative || []).map((r) => r.to)));
  const rows = items.filter((i) => i.kind !== 'unchanged' || cited.has(i.ref));
  $('struct-section').hidden = !doc;
  $('struct-count').textContent = doc ? `${doc.buildings_before} before, ${doc.buildings_after} after; ${changed.length} changed` : '';
  // partial: the other building is cut by the image's edge, so the ratio is an upper bound
  const pct = (r) => `${r.partial ? 'at most ' : ''}${Math.round(100 * r.ratio)}% ±${Math.round(100 * r.ratio_uncertainty)}% of ${r.to}`;
  const tb = clear($('struct-table').tBodies[0]);
  for (const i of rows) {
    const rel = (i.relative || []).map((r) => `${pct(r)} (${r.basis === 'largest' ? 'largest' : 'nearest similar'})`);
    const dets = (i.change_objects || []).map((k) => run.detections[k]?.ref).filter(Boolean);
    tb.append(el('tr', { onclick: () => dets[0] && pick(dets[0]) },
      el('td', { class: 'mono', text: i.ref }),
      el('td', { text: String(i.kind).replace('_', ' ') }),
      el('td', { class: 'num', text: fmtArea(i.area_m2) }),
      el('td', { class: 'num', text: fmtArea(i.area_uncertainty_m2) }),
      el('td', { class: 'num', text: i.added_area_m2 == null ? '' : fmtArea(i.added_area_m2) }),
      el('td', { text: rel.join('; ') }),
      el('td', { class: 'mono', text: dets.join(', ') })));
  }
}

function pick(ref) {
  focus = focus === ref ? null : ref;
  renderDetections();
  const row = document.querySelector(`#det-table tr[data-ref="${CSS.escape(ref)}"]`);
  row?.scrollIntoView({ block: 'nearest' });
}

async function chooseRun(ref) {
  run = await api(`/api/runs/${encodeURIComponent(ref)}`);
  $('before-scene').value = String(run.before_scene_id);
  $('after-scene').value = String(run.after_scene_id);
  $('run-select').value = run.ref;
  focus = null;
  renderRuns(); showPair(); renderDetections(); renderStructures();
}

async function loadTimeline() {
  const img = $('timeline-img');
  const none = (why) => { img.hidden = true; $('timeline-note').textContent = `no timeline: ${why}`; };
  img.hidden = true;
  img.addEventListener('error', () => none('the figure could not be made for these scenes'));
  img.addEventListener('load', () => { img.hidden = false; $('timeline-note').textContent = 'click a date below to show it as "after" (shift-click: "before")'; });
  try {
    const tl = await api(`/api/sites/${siteId}/timeline`);
    // what the figure can plot: scenes dated to the day, clear enough (as the figure decides)
    const minClear = tl.parameters.min_clear ?? 0.5;
    const dated = tl.observations.filter((o) => o.date.length >= 10 && !o.date.includes('/'));
    const usable = dated.filter((o) => (o.clear_fraction ?? 0) >= minClear);
    if (usable.length >= 2) img.src = `/api/sites/${siteId}/timeline.png`;
    else none(`${usable.length} of ${tl.observations.length} scenes are dated to the day and clear enough to plot (these are dated ${tl.observations.map((o) => o.date).join(', ')})`);
    const box = clear($('timeline-dates'));
    const breaks = new Set(tl.breaks.map((b) => b.date));
    for (const o of tl.observations) {
      box.append(el('button', { type: 'button', class: `chip${breaks.has(o.date) ? ' brk' : ''}`, text: o.date,
        onclick: (ev) => {
          const id = String(o.scene_id);
          if (!sceneById(o.scene_id)) return;
          $(ev.shiftKey ? 'before-scene' : 'after-scene').value = id;
          showPair();
        } }));
    }
    for (const b of tl.breaks) box.append(el('span', { class: 'chip brk-label', text: `break ${b.date} ${b.kind}` }));
  } catch (err) { none(err.message); }
}

$('before-scene').addEventListener('change', showPair);
$('after-scene').addEventListener('change', showPair);
$('run-select').addEventListener('change', (ev) => { if (ev.target.value) chooseRun(ev.target.value); });
$('show-dets').addEventListener('change', renderDetections);
for (const [id, mode] of [['mode-swipe', 'swipe'], ['mode-side', 'side']]) {
  $(id).addEventListener('click', () => {
    compare.setMode(mode);
    $('mode-swipe').classList.toggle('on', mode === 'swipe');
    $('mode-side').classList.toggle('on', mode === 'side');
  });
}

// AOI editing: drag the corners on the "after" map (the swipe moves out of the way)
const draw = new PolygonDraw(compare.after, 'aoi-draw');
draw.active = false;
$('aoi-edit').addEventListener('click', () => {
  $('aoi-error').textContent = '';
  compare.setMode('swipe'); $('swipe').value = '0'; compare.setSwipe(0);
  const geom = data.site.aoi;
  const ring = geom.type === 'Polygon' ? geom.coordinates[0] : geom.coordinates[0][0];
  draw.start(ring);
  draw.active = false; // corners move by dragging; no new corners by clicking
  $('aoi-edit').hidden = true; $('aoi-save').hidden = false; $('aoi-cancel').hidden = false;
});
$('aoi-cancel').addEventListener('click', () => {
  draw.stop(); $('aoi-edit').hidden = false; $('aoi-save').hidden = true; $('aoi-cancel').hidden = true;
});
$('aoi-save').addEventListener('click', async () => {
  try {
    const site = await api(`/api/sites/${siteId}`, { method: 'PATCH', body: { aoi: draw.polygon() } });
    data.site = { ...data.site, aoi: site.aoi, bbox_wgs84: site.bbox_wgs84 };
    compare.setAoi(site.aoi);
    draw.stop(); $('aoi-edit').hidden = false; $('aoi-save').hidden = true; $('aoi-cancel').hidden = true;
    $('aoi-error').textContent = 'AOI saved';
  } catch (err) { showError($('aoi-error'), err); }
});
