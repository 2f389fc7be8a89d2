// The invitation link's landing page: who the invitation is for (from peek), then sign-in.
import { signIn } from './auth.js';

const $ = (id) => document.getElementById(id);

async function start() {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  // Like the sign-in's `code`: the token must not stay in the address bar, in history or in a shared screenshot.
  history.replaceState(null, '', location.pathname);
  const res = await fetch(`/admin/api/invitations/peek?token=${encodeURIComponent(token)}`);
  $('loading').hidden = true;
  if (res.status !== 200) {
    $('title').textContent = 'Invitation not valid';
    $('invalid').hidden = false;
    return;
  }
  const { email, role, expiresAt } = await res.json();
  $('email').value = email;
  $('role').textContent = role;
  $('expires').textContent = new Date(expiresAt).toLocaleString();
  $('valid').hidden = false;
  $('continue').addEventListener('click', () =>
    signIn('/account', email).catch((err) => {
      $('error').textContent = err.message;
    }),
  );
}

start();
