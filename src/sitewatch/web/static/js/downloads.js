// Downloads: each site's report, GIS exports and timeline figure, for its latest run or a
// chosen one.
import { api, clear, el, start } from './common.js';

await start();
const tb = clear(document.getElementById('dl-table').tBodies[0]);
const sites = await api('/api/sites');
if (!sites.length) tb.append(el('tr', {}, el('td', { colspan: '5', class: 'hint', text: 'no sites yet' })));
for (const s of sites) {
  const runs = await api(`/api/sites/${s.id}/runs`);
  const sel = el('select', { 'aria-label': `run of ${s.name}` },
    el('option', { value: '', text: runs.length ? `latest (${runs[0].ref})` : 'no runs' }),
    ...runs.map((r) => el('option', { value: r.ref, text: `${r.ref} ${r.method}` })));
  const links = el('span', {});
  const figure = el('a', { href: `/api/sites/${s.id}/timeline.png`, download: '', text: 'timeline PNG' });
  const render = () => {
    const q = sel.value ? `run=${encodeURIComponent(sel.value)}&` : '';
    clear(links).append(
      ...['geojson', 'gpkg', 'kml'].flatMap((f, i) => [i ? ' · ' : '',
        el('a', { href: `/api/sites/${s.id}/export?${q}format=${f}`, download: '', text: f.toUpperCase() })]));
    report.setAttribute('href', `/api/sites/${s.id}/report?${q}`.replace(/[?&]$/, ''));
  };
  const report = el('a', { href: `/api/sites/${s.id}/report`, download: '', text: 'HTML report' });
  sel.addEventListener('change', render);
  tb.append(el('tr', {}, el('td', {}, el('a', { href: `/sites/${s.id}`, text: s.name })),
    el('td', {}, sel), el('td', {}, runs.length ? report : '—'), el('td', {}, runs.length ? links : '—'),
    el('td', {}, figure)));
  if (runs.length) render();
}
document.body.dataset.ready = '1';
