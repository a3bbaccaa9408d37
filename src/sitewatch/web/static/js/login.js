import { api, ApiError } from './common.js';

const form = document.getElementById('login-form');
const error = document.getElementById('login-error');

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  error.textContent = '';
  try {
    await api('/api/login', {
      method: 'POST', login: true,
      body: {
        name: document.getElementById('login-name').value,
        password: document.getElementById('login-password').value,
      },
    });
    const next = new URLSearchParams(location.search).get('next') || '/';
    location.assign(next.startsWith('/') && !next.startsWith('//') ? next : '/');
  } catch (err) {
    error.textContent = err instanceof ApiError ? err.message : String(err);
  }
});
