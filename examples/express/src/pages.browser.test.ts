/// <reference lib="dom" />
// The example pages in a real browser (Debian's Chromium through playwright-core): the admin signs in at the
// dev OpenID Provider with code + PKCE, bulk-invites from a CSV, an invitee follows the link, and the refusals
// (revoked link, non-admin, disabled user), a bad address reported per row, and escaping hold. Screenshots go to examples/express/test-artifacts.
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createDemo, type Demo } from '@jit-provision/example-shared';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './app';

const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
const artefacts = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

const people = Array.from({ length: 25 }, (_, i) => `person${i + 1}@example.com`);
const csv = ['email,role', ...people.map((email, i) => `${email},${i % 2 === 0 ? 'editor' : 'user'}`)].join(
  '\n',
);

describe.skipIf(!present)(
  present
    ? 'example pages in Chromium'
    : `example pages in Chromium: SKIPPED, ${CHROMIUM} is missing (apt-get install -y chromium)`,
  () => {
    let server: Server;
    let demo: Demo;
    let base: string;
    let browser: Browser;
    let admin: Page;
    const contexts: BrowserContext[] = [];
    const dialogs: string[] = [];

    async function newPage(): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      contexts.push(context);
      const page = await context.newPage();
      // Well under the test's timeout, so a stuck step fails with its own selector.
      page.setDefaultTimeout(15_000);
      // Any alert/confirm/prompt means a value was run as code.
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      return page;
    }

    /** The dev provider's login form; a new browser context has no provider session, so it always shows. */
    async function logIn(page: Page, login: string): Promise<void> {
      await page.waitForSelector('input[name=login]');
      await page.fill('input[name=login]', login);
      await page.fill('input[name=password]', 'demo');
      await page.click('button[type=submit]');
    }

    const shot = (page: Page, name: string) =>
      page.screenshot({ path: `${artefacts}${name}.png`, fullPage: true });

    beforeAll(async () => {
      mkdirSync(artefacts, { recursive: true });
      // The app's origin must be known before the provider registers its redirect URIs.
      server = createServer();
      await new Promise<void>((resolve) => server.listen(0, resolve));
      base = `http://localhost:${(server.address() as AddressInfo).port}`;
      demo = await createDemo({ baseUrl: base });
      server.on('request', createApp(demo));
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
        ],
      });
      admin = await newPage();
    });

    afterAll(async () => {
      for (const context of contexts) await context.close();
      await browser?.close();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server?.closeAllConnections();
      await demo?.close();
    });

    it('an admin signs in with code + PKCE, bulk-invites 25 emails from a CSV and sees 25 results', async () => {
      const response = await admin.goto(`${base}/admin`);
      const csp = response?.headers()['content-security-policy'] ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      await admin.click('#signin-button');
      await logIn(admin, 'admin@example.com');
      await admin.waitForSelector('#console', { state: 'visible' });
      // Neither the code nor a token stays in the address bar, and nothing is kept in localStorage.
      expect(admin.url()).toBe(`${base}/admin`);
      expect(await admin.evaluate(() => localStorage.length)).toBe(0);

      await admin.setInputFiles('#csv', {
        name: 'people.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(csv),
      });
      await admin.click('#invite-button');
      await admin.waitForFunction(() =>
        document.getElementById('bulk-summary')?.textContent?.startsWith('25 of 25'),
      );
      expect(await admin.textContent('#bulk-summary')).toBe('25 of 25 done: 25 sent, 0 skipped, 0 failed');
      expect(await admin.locator('#bulk-results tbody tr').count()).toBe(25);
      await admin.waitForFunction(() => document.querySelectorAll('#invitations tbody tr').length === 25);
      await shot(admin, 'admin');
    });

    it('an invited user opens the link, sees the email pre-filled, signs in and gets the invited role', async () => {
      const link = demo.mailbox.get('person1@example.com') as string;
      expect(link).toMatch(/\/invite\?token=/);
      const invitee = await newPage();
      await invitee.goto(link);
      await invitee.waitForSelector('#valid', { state: 'visible' });
      // The token left the address bar and history once read; the page still shows the invitation.
      expect(invitee.url()).toBe(`${base}/invite`);
      expect(await invitee.evaluate(() => location.search)).toBe('');
      expect(await invitee.inputValue('#email')).toBe('person1@example.com');
      expect(await invitee.getAttribute('#email', 'readonly')).not.toBeNull();
      await shot(invitee, 'invite');
      await invitee.click('#continue');
      await logIn(invitee, 'person1@example.com');
      await invitee.waitForSelector('#account', { state: 'visible' });
      expect(invitee.url()).toBe(`${base}/account`);
      expect(await invitee.textContent('#role')).toBe('editor');
      expect(await invitee.textContent('#email')).toBe('person1@example.com');
      await shot(invitee, 'account');

      // The admin sees the invitation consumed.
      await admin.selectOption('#invitation-status', 'consumed');
      await admin.click('#invitations-form button[type=submit]');
      await admin.waitForFunction(() => document.querySelectorAll('#invitations tbody tr').length === 1);
      expect(await admin.textContent('#invitations tbody tr')).toContain('person1@example.com');
    });

    it('a link revoked in /admin shows the invalid-invitation page', async () => {
      await admin.selectOption('#invitation-status', 'pending');
      await admin.click('#invitations-form button[type=submit]');
      await admin.click('button:text-is("Revoke person2@example.com")');
      await admin.waitForFunction(() =>
        document.getElementById('status')?.textContent?.startsWith('Revoked'),
      );
      const visitor = await newPage();
      await visitor.goto(demo.mailbox.get('person2@example.com') as string);
      await visitor.waitForSelector('#invalid', { state: 'visible' });
      expect(await visitor.textContent('h1')).toBe('Invitation not valid');
      expect(await visitor.isVisible('#continue')).toBe(false);
      await shot(visitor, 'invite-invalid');
    });

    it('a signed-in non-admin gets the forbidden page', async () => {
      const user = await newPage();
      await user.goto(`${base}/admin`);
      await user.click('#signin-button');
      await logIn(user, 'person1@example.com');
      await user.waitForSelector('#forbidden', { state: 'visible' });
      expect(await user.textContent('h1')).toBe('Forbidden');
      expect(await user.isVisible('#console')).toBe(false);
      await shot(user, 'forbidden');
    });

    it('a user disabled in /admin is refused on their next API call, and enabled again', async () => {
      const user = await newPage();
      await user.goto(demo.mailbox.get('person3@example.com') as string);
      await user.click('#continue');
      await logIn(user, 'person3@example.com');
      await user.waitForSelector('#account', { state: 'visible' });

      await admin.fill('#user-query', 'person3');
      await admin.click('#users-form button[type=submit]');
      await admin.click('button:text-is("Disable person3@example.com")');
      await admin.waitForSelector('button:text-is("Enable person3@example.com")');
      await shot(admin, 'admin-users');

      await user.click('#refresh');
      await user.waitForFunction(() =>
        document.getElementById('error')?.textContent?.includes('user_disabled'),
      );
      expect(await user.textContent('#error')).toBe('Refused (403): user_disabled');
      expect(await user.isVisible('#account')).toBe(false);

      await admin.click('button:text-is("Enable person3@example.com")');
      await admin.waitForSelector('button:text-is("Disable person3@example.com")');
      await user.click('#refresh');
      await user.waitForSelector('#account', { state: 'visible' });
      expect(await user.textContent('#error')).toBe('');
    });

    it('a bulk list with a bad address sends the rest and shows that row failed with its reason, as text: nothing executes', async () => {
      const payload = '<img src=x onerror=alert(1)>@x.com';
      await admin.setInputFiles('#csv', []);
      await admin.fill('#emails', `late@example.com\n${payload}`);
      await admin.click('#invite-button');
      await admin.waitForFunction(() =>
        document.getElementById('bulk-summary')?.textContent?.startsWith('2 of 2'),
      );
      expect(await admin.textContent('#bulk-summary')).toBe('2 of 2 done: 1 sent, 0 skipped, 1 failed');
      const rows = admin.locator('#bulk-results tbody tr');
      expect(await rows.nth(0).locator('td').allTextContents()).toEqual(['late@example.com', 'sent', '']);
      expect(await rows.nth(1).locator('td').allTextContents()).toEqual([
        payload,
        'failed',
        'not a valid address or role (invalid_request)',
      ]);
      expect(await admin.textContent('#invite-error')).toBe('');
      expect(demo.mailbox.get('late@example.com')).toMatch(/\/invite\?token=/);
      await shot(admin, 'admin-bulk-failed');
      // Give an injected image a chance to fail and fire its handler before looking.
      await admin.evaluate(
        () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))),
      );
      expect(await admin.locator('main img').count()).toBe(0);
      expect(dialogs).toEqual([]);
    });
  },
);
