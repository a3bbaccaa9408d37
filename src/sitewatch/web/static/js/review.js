// The review queue: one change at a time, keyboard-driven.
//   c confirm · r then a reason key (1-7) reject · s skip (set aside for now) · n next ·
//   p previous · Esc cancels. Filters by site, status, kind, score and date; batch actions.
import { api, clear, el, fmtArea, fmtScore, showError, start, statusBadge } from './common.js';
import { Compare } from './compare.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let queue = [];
let index = 0;
let current = null;
let reasonMode = false;
const skipped = new Set();
const selected = new Set();
let sites = new Map();

const session = await start();
const canReview = session.user.can_review;
const reasons = session.reasons;
const compare = new Compare({ container: $('r-compare'), before: 'r-before', after: 'r-after' });

for (const [i, r] of reasons.entries()) {
  $('reasons').append(el('button', { type: 'button', class: 'reason', dataset: { reason: r },
    onclick: () => decide('reject', r) }, el('kbd', { text: String(i + 1) }), ` ${r}`));
  $('b-reason').append(el('option', { value: r, text: r }));
}
if (!canReview) {
  for (const id of ['d-confirm', 'd-reject', 'd-reset', 'b-confirm', 'b-reject', 'b-reset']) $(id).disabled = true;
  $('d-msg').textContent = `${session.user.name} is a viewer: viewers cannot review`;
}

const siteList = await api('/api/sites?include_removed=true');
sites = new Map(siteList.map((s) => [s.id, s]));
for (const s of siteList) $('f-site').append(el('option', { value: String(s.id), text: s.name }));
if (params.get('site')) $('f-site').value = params.get('site');
if (params.get('change')) $('f-status').value = '';
await compare.ready;
await load(params.get('change'));
document.body.dataset.ready = '1';

function query() {
  const q = new URLSearchParams();
  const add = (k, v) => { if (v !== '' && v !== null && v !== undefined) q.set(k, v); };
  add('site', $('f-site').value); add('status', $('f-status').value); add('kind', $('f-kind').value);
  add('min_score', $('f-score').value); add('since', $('f-since').value); add('until', $('f-until').value);
  return q.toString();
}

async function load(openRef = null) {
  try {
    queue = await api(`/api/changes?${query()}`);
  } catch (err) { showError($('queue-note'), err); return; }
  selected.clear(); $('sel-all').checked = false;
  const at = openRef ? queue.findIndex((c) => c.ref === openRef) : -1;
  index = at >= 0 ? at : Math.min(index, Math.max(0, queue.length - 1));
  renderQueue();
  await show();
}

function renderQueue() {
  const ul = clear($('queue'));
  $('queue-note').textContent = `${queue.length} change(s)${skipped.size ? `, ${skipped.size} skipped` : ''}`;
  queue.forEach((c, i) => {
    const box = el('input', { type: 'checkbox', 'aria-label': `select ${c.ref}`, checked: selected.has(c.ref),
      onclick: (ev) => { ev.stopPropagation(); if (ev.target.checked) selected.add(c.ref); else selected.delete(c.ref); } });
    ul.append(el('li', { class: `${i === index ? 'current' : ''}${skipped.has(c.ref) ? ' skipped' : ''}`,
      dataset: { ref: c.ref }, onclick: () => { index = i; renderQueue(); show(); } },
    box, el('b', { text: c.ref }), ' ', statusBadge(c.status),
    el('div', { class: 'meta', text: `${c.site_name || ''} · ${c.change_type} · score ${fmtScore(c.score)} · ${c.last_seen}` })));
  });
  ul.querySelector('li.current')?.scrollIntoView({ block: 'nearest' });
}

async function show() {
  setReasonMode(false);
  const brief = queue[index];
  if (!brief) {
    current = null;
    $('c-title').textContent = 'Nothing to review';
    $('c-facts').textContent = 'no change matches the filters';
    clear($('audit').tBodies[0]);
    compare.setDetections([]);
    return;
  }
  current = await api(`/api/changes/${brief.ref}`);
  const c = current; const d = c.latest; const site = sites.get(c.site_id);
  $('c-title').textContent = `${c.ref} · ${c.site_name || ''}`;
  clear($('c-facts')).append(statusBadge(c.status), ` ${c.change_type} · first seen ${c.first_seen} (${c.first_run_ref}) · last seen ${c.last_seen} (${c.last_run_ref}) · `,
    d ? `${d.ref}: ${fmtArea(d.area_m2)} ± ${fmtArea(d.area_uncertainty_m2)} m², score ${fmtScore(d.score)}` : 'no detection',
    ` · seen by ${c.detection_refs.length} detection(s) in ${c.run_refs.length} run(s) · `,
    el('a', { href: `/sites/${c.site_id}`, text: 'site page' }));
  if (site) {
    compare.setScene('before', { id: c.before_scene_id }, site.bbox_wgs84);
    compare.setScene('after', { id: c.after_scene_id }, site.bbox_wgs84);
  }
  $('r-before-tag').textContent = `before (scene #${c.before_scene_id})`;
  $('r-after-tag').textContent = `after (scene #${c.after_scene_id})`;
  if (d) {
    compare.setDetections([d], d.ref);
    const xs = []; const ys = [];
    const ring = d.polygon.type === 'Polygon' ? d.polygon.coordinates[0] : d.polygon.coordinates[0][0];
    for (const [x, y] of ring) { xs.push(x); ys.push(y); }
    const pad = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) * 0.25 + 0.00005;
    compare.fit([Math.min(...xs) - pad, Math.min(...ys) - pad, Math.max(...xs) + pad, Math.max(...ys) + pad], 20);
  }
  renderAudit();
}

function renderAudit() {
  const tb = clear($('audit').tBodies[0]);
  if (!current.reviews.length) tb.append(el('tr', {}, el('td', { colspan: '6', class: 'hint', text: 'not reviewed yet' })));
  for (const r of [...current.reviews].reverse()) {
    tb.append(el('tr', {}, el('td', { text: (r.at || '').replace('T', ' ').slice(0, 19) }),
      el('td', { text: r.by }), el('td', {}, statusBadge(r.from), ' → ', statusBadge(r.to)),
      el('td', { text: r.reason || '' }), el('td', { text: r.note || '' }),
      el('td', { text: r.detection_ref || r.change_ref })));
  }
}

function setReasonMode(on) {
  reasonMode = on && canReview && !!current;
  $('reasons').hidden = !reasonMode;
  $('d-reject').classList.toggle('on', reasonMode);
}

async function decide(decision, reason = null) {
  if (!current || !canReview) return;
  setReasonMode(false);
  const note = $('d-note').value.trim();
  try {
    const res = await api(`/api/changes/${current.ref}/review`, { method: 'POST',
      body: { decision, reason, note: note || null } });
    $('d-note').value = '';
    $('d-msg').textContent = `${res.change.ref} ${res.review.to}${res.review.reason ? ` (${res.review.reason})` : ''} by ${res.review.by}`;
    queue[index] = res.change;
    current = res.change;
    const leaves = $('f-status').value && $('f-status').value !== res.change.status;
    if (leaves) { queue.splice(index, 1); if (index >= queue.length) index = Math.max(0, queue.length - 1); }
    else if (index < queue.length - 1) index += 1;
    renderQueue();
    await show();
  } catch (err) { showError($('d-msg'), err); }
}

function move(step) {
  if (!queue.length) return;
  index = (index + step + queue.length) % queue.length;
  renderQueue(); show();
}

function skip() {
  const here = queue[index]; // not `current`: it may still be loading
  if (!here) return;
  skipped.add(here.ref);
  const next = queue.findIndex((c, i) => i > index && !skipped.has(c.ref));
  index = next >= 0 ? next : (index + 1) % queue.length;
  renderQueue(); show();
}

async function batch(decision) {
  if (!selected.size) { $('d-msg').textContent = 'select changes in the list first'; return; }
  try {
    const res = await api('/api/reviews/batch', { method: 'POST', body: { refs: [...selected], decision,
      reason: decision === 'reject' ? $('b-reason').value : null, note: $('d-note').value.trim() || null } });
    $('d-msg').textContent = `${res.reviewed.length} ${decision}ed, ${res.skipped.length} already so`;
    await load(current?.ref);
  } catch (err) { showError($('d-msg'), err); }
}

$('d-confirm').addEventListener('click', () => decide('confirm'));
$('d-reject').addEventListener('click', () => setReasonMode(!reasonMode));
$('d-reset').addEventListener('click', () => decide('reset'));
$('d-skip').addEventListener('click', skip);
$('d-next').addEventListener('click', () => move(1));
$('b-confirm').addEventListener('click', () => batch('confirm'));
$('b-reject').addEventListener('click', () => batch('reject'));
$('b-reset').addEventListener('click', () => batch('reset'));
$('sel-all').addEventListener('change', (ev) => {
  selected.clear(); if (ev.target.checked) for (const c of queue) selected.add(c.ref);
  renderQueue();
});
$('filters').addEventListener('change', () => { index = 0; skipped.clear(); load(); });
$('filters').addEventListener('submit', (ev) => ev.preventDefault());

document.addEventListener('keydown', (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const typing = ['INPUT', 'SELECT', 'TEXTAREA'].includes(document.activeElement?.tagName);
  if (ev.key === 'Escape') { setReasonMode(false); document.activeElement?.blur(); return; }
  if (typing) return;
  if (reasonMode) {
    const n = Number(ev.key);
    if (n >= 1 && n <= reasons.length) { ev.preventDefault(); decide('reject', reasons[n - 1]); }
    return;
  }
  const k = ev.key.toLowerCase();
  if (k === 'c') { ev.preventDefault(); decide('confirm'); }
  else if (k === 'r') { ev.preventDefault(); setReasonMode(true); }
  else if (k === 's') { ev.preventDefault(); skip(); }
  else if (k === 'n' || ev.key === 'ArrowDown') { ev.preventDefault(); move(1); }
  else if (k === 'p' || ev.key === 'ArrowUp') { ev.preventDefault(); move(-1); }
});
