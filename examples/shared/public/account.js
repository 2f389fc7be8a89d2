// The account page: where sign-in lands; the first call to the API provisions the user (and consumes the
// invitation when sign-up is invite-only).
import { api, completeSignIn, signIn } from './auth.js';

const $ = (id) => document.getElementById(id);

async function load() {
  const { status, body } = await api('/me');
  if (status !== 200) {
    $('error').textContent = `Refused (${status}): ${body?.error ?? 'error'}`;
    $('account').hidden = true;
    return;
  }
  $('error').textContent = '';
  const { user, created } = body;
  $('email').textContent = user.email ?? '';
  $('name').textContent = user.name ?? '';
  $('username').textContent = user.username;
  $('role').textContent = user.role;
  $('user-status').textContent = user.status ?? 'active';
  $('status').textContent = created ? 'Welcome! Your account was created by this sign-in.' : 'Signed in.';
  $('account').hidden = false;
}

async function start() {
  $('signin-button').addEventListener('click', () => signIn('/account'));
  $('refresh').addEventListener('click', load);
  try {
    if (!(await completeSignIn())) return;
  } catch (err) {
    $('error').textContent = err.message;
    return;
  }
  $('signin').hidden = true;
  $('refresh').hidden = false;
  await load();
}

start();
