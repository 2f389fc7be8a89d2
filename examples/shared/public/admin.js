// The admin page: sign in, bulk-invite with live progress, list and revoke invitations, manage users.
import { api, button, completeSignIn, renderTable, signIn } from './auth.js';

const $ = (id) => document.getElementById(id);
const API = '/admin/api';
const ROLES = ['user', 'editor', 'admin'];
const say = (text) => {
  $('status').textContent = text;
};

/** Entries of the textarea and the CSV: `email` or `email,role` per line; a header line is skipped. */
async function entries() {
  const lines = $('emails')
    .value.split(/[\n,;]+/)
    .map((line) => ({ email: line.trim() }));
  const file = $('csv').files[0];
  if (file) {
    for (const line of (await file.text()).split(/\r?\n/)) {
      const [email = '', role = ''] = line.split(',').map((cell) => cell.trim().replace(/^"|"$/g, ''));
      if (email === '' || email.toLowerCase() === 'email') continue;
      lines.push(role ? { email, role } : { email });
    }
  }
  return lines.filter((entry) => entry.email !== '');
}

function errorText(body) {
  // Only the request as a whole is refused here (not a list, too long, a role you may not give); a bad
  // entry is its own failed row in the results.
  if (body?.error === 'forbidden') return 'Not invited: your account may not give that role.';
  return `Not invited: ${body?.error ?? 'error'}${body?.field ? ` (${body.field})` : ''}`;
}

const DETAILS = {
  duplicate: 'repeated in the list',
  pending: 'already has a pending invitation',
  invalid_request: 'not a valid address or role',
  delivery_failed: 'could not be delivered',
};

/** Why an entry was skipped or failed, in words, with the API's code for a failure. */
function detail(result) {
  if (result.reason) return DETAILS[result.reason] ?? result.reason;
  if (result.error) return `${DETAILS[result.error] ?? 'failed'} (${result.error})`;
  return '';
}

async function invite(event) {
  event.preventDefault();
  $('invite-error').textContent = '';
  const list = await entries();
  if (list.length === 0) {
    $('invite-error').textContent = 'Enter at least one email address.';
    return;
  }
  $('invite-button').disabled = true;
  try {
    const started = await api(`${API}/invitations/bulk`, {
      method: 'POST',
      body: { emails: list, role: $('invite-role').value },
    });
    if (started.status !== 202) {
      $('invite-error').textContent = errorText(started.body);
      return;
    }
    $('bulk').hidden = false;
    for (;;) {
      const { status, body: job } = await api(
        `${API}/invitations/bulk/${encodeURIComponent(started.body.job)}`,
      );
      if (status !== 200) {
        $('invite-error').textContent = `Progress unavailable: ${job?.error ?? status}`;
        return;
      }
      $('bulk-progress').max = job.total;
      $('bulk-progress').value = job.done;
      $('bulk-summary').textContent =
        `${job.done} of ${job.total} done: ${job.sent} sent, ${job.skipped} skipped, ${job.failed} failed`;
      renderTable(
        $('bulk-results'),
        ['Email', 'Result', 'Detail'],
        job.results.map((r) => [r.email, r.status, detail(r)]),
      );
      if (job.done >= job.total) break;
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    await listInvitations();
  } finally {
    $('invite-button').disabled = false;
  }
}

async function listInvitations(event) {
  event?.preventDefault();
  const status = $('invitation-status').value;
  const { body } = await api(`${API}/invitations${status ? `?status=${encodeURIComponent(status)}` : ''}`);
  renderTable(
    $('invitations'),
    ['Email', 'Role', 'Status', 'Expires', ''],
    (body?.invitations ?? []).map((inv) => [
      inv.email,
      inv.role,
      inv.status,
      new Date(inv.expiresAt).toLocaleString(),
      inv.status === 'pending'
        ? button(`Revoke ${inv.email}`, async () => {
            const res = await api(`${API}/invitations/${encodeURIComponent(inv.id)}?soft=true`, {
              method: 'DELETE',
            });
            say(
              res.status === 204
                ? `Revoked the invitation of ${inv.email}.`
                : `Not revoked: ${res.body?.error}`,
            );
            await listInvitations();
          })
        : '',
    ]),
  );
}

async function updateUser(user, change) {
  const res = await api(`${API}/users/${encodeURIComponent(user.id)}`, { method: 'PATCH', body: change });
  $('users-error').textContent = res.status === 200 ? '' : `Not changed: ${res.body?.error ?? res.status}`;
  if (res.status === 200) say(`Updated ${user.email ?? user.username}.`);
  await listUsers();
}

function roleSelect(user) {
  const select = document.createElement('select');
  select.setAttribute('aria-label', `Role of ${user.email ?? user.username}`);
  for (const role of new Set([...ROLES, user.role])) {
    const option = document.createElement('option');
    option.value = role;
    option.textContent = role;
    option.selected = role === user.role;
    select.append(option);
  }
  select.addEventListener('change', () => updateUser(user, { role: select.value }));
  return select;
}

async function listUsers(event) {
  event?.preventDefault();
  const params = new URLSearchParams();
  if ($('user-query').value.trim()) params.set('query', $('user-query').value.trim());
  if ($('user-status').value) params.set('status', $('user-status').value);
  const { status, body } = await api(`${API}/users?${params}`);
  if (status !== 200) {
    $('users-error').textContent = `Users unavailable: ${body?.error ?? status}`;
    return;
  }
  renderTable(
    $('users'),
    ['Email', 'Name', 'Role', 'Status', ''],
    body.users.map((user) => [
      user.email ?? '',
      user.name ?? '',
      roleSelect(user),
      user.status,
      user.status === 'disabled'
        ? button(`Enable ${user.email ?? user.username}`, () => updateUser(user, { status: 'active' }))
        : button(`Disable ${user.email ?? user.username}`, () => updateUser(user, { status: 'disabled' })),
    ]),
  );
}

async function start() {
  $('signin-button').addEventListener('click', () => signIn('/admin').catch((err) => say(err.message)));
  let signed;
  try {
    signed = await completeSignIn();
  } catch (err) {
    say(err.message);
    return;
  }
  if (!signed) return;
  $('signin').hidden = true;
  const probe = await api(`${API}/invitations?status=pending`);
  if (probe.status === 403 || probe.status === 401) {
    $('forbidden').hidden = false;
    $('title').textContent = 'Forbidden';
    return;
  }
  $('console').hidden = false;
  say('Signed in.');
  $('invite-form').addEventListener('submit', invite);
  $('invitations-form').addEventListener('submit', listInvitations);
  $('users-form').addEventListener('submit', listUsers);
  await Promise.all([listInvitations(), listUsers()]);
}

start();
