// Sign-in: trades the admin key for a session cookie (HttpOnly, so this script never sees it).
const form = document.getElementById('login-form');
const error = document.getElementById('login-error');
const submit = document.getElementById('login-submit');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.hidden = true;
  submit.disabled = true;
  submit.textContent = 'Signing in…';
  try {
    const response = await fetch('/console/api/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Tcm-Console': '1' },
      body: JSON.stringify({ key: document.getElementById('admin-key').value }),
    });
    if (response.ok) {
      location.replace('/console/' + (location.hash || '#/fleet'));
      return;
    }
    const body = await response.json().catch(() => null);
    error.textContent = response.status === 401 ? 'That is not the admin key of this server.' : (body?.detail ?? `Sign-in failed (${response.status}).`);
    error.hidden = false;
  } catch (e) {
    error.textContent = `The server did not answer: ${e.message}`;
    error.hidden = false;
  } finally {
    submit.disabled = false;
    submit.textContent = 'Sign in';
  }
});
