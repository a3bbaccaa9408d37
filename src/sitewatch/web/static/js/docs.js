// An offline API page: lists /openapi.json (FastAPI's own page loads Swagger from a CDN).
import { clear, el } from './common.js';

const spec = await (await fetch('/openapi.json')).json();
document.getElementById('api-title').textContent = `${spec.info.title} ${spec.info.version}`;
const box = clear(document.getElementById('api-list'));
box.append(el('p', { text: spec.info.description || '' }));
for (const [path, ops] of Object.entries(spec.paths)) {
  for (const [method, op] of Object.entries(ops)) {
    const params = (op.parameters || []).map((p) => `${p.name}${p.required ? '' : '?'} (${p.in})`);
    const body = op.requestBody ? Object.keys(op.requestBody.content || {}).join(', ') : '';
    box.append(el('section', { class: 'op' },
      el('h3', {}, el('span', { class: `method ${method}`, text: method.toUpperCase() }), ' ', el('code', { text: path })),
      el('p', { text: op.summary || '' }),
      params.length ? el('p', { class: 'hint', text: `parameters: ${params.join(', ')}` }) : null,
      body ? el('p', { class: 'hint', text: `body: ${body}` }) : null));
  }
}
document.body.dataset.ready = '1';
