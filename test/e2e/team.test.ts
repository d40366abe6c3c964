import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, runBrowserTests } from '../helpers/browser.js';
import { DirectLineClient, type DlActivity } from '../helpers/directLineClient.js';
import { startApp, type RunningApp } from '../helpers/testApp.js';

const ADMIN_TOKEN = 'admin-secret-token';
const QUESTION = 'nhà tôi nuôi gà bị toi thì báo ai';
const ANSWER = 'Bạn báo ngay cho cán bộ thú y của phường 5, số điện thoại ở bảng tin Ủy ban phường.';

const said = (bot: DlActivity[], pattern: RegExp) => bot.some((a) => pattern.test(a.text ?? ''));

describe.runIf(runBrowserTests)('community team dashboard in headless Chromium', () => {
  let app: RunningApp;
  let browser: Browser;
  beforeAll(async () => {
    app = await startApp({ ADMIN_TOKEN });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('signs in, finds the forwarded question, answers it, and the citizen receives the answer', async () => {
    // A citizen asks something the assistant cannot answer and agrees to forward it.
    const dl = new DirectLineClient(app.url, 'citizen-team-e2e');
    await dl.generate();
    await dl.start();
    await dl.post(QUESTION);
    await dl.waitFor((bot) =>
      bot.some((a) => a.suggestedActions?.actions.some((x) => x.title === 'Có, chuyển giúp mình')),
    );
    await dl.post('Có, chuyển giúp mình');
    await dl.waitFor((bot) => said(bot, /xã\/phường nào/));
    await dl.post('phường 5');
    await dl.waitFor((bot) =>
      said(bot, /^Mình đã chuyển câu hỏi của bạn tới Tổ công nghệ số cộng đồng phường 5/),
    );

    // A phone-sized browser.
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: 'vi-VN',
      timezoneId: 'Asia/Ho_Chi_Minh',
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });

    const response = await page.goto(`${app.url}/team`);
    expect(response?.status()).toBe(200);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");

    // Sign in with the bootstrap admin token.
    await page.locator('#token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.locator('#who').getByText('Quản trị', { exact: false }).waitFor({ timeout: 10_000 });
    expect(await page.evaluate("localStorage.getItem('tlcds.team.token')")).toBe(ADMIN_TOKEN);
    expect(await page.getByRole('link', { name: 'Thành viên' }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Đăng xuất' }).isVisible()).toBe(true);

    // The inbox shows the question, with its commune, and the live connection.
    const item = page.locator('#list a.item', { hasText: QUESTION });
    await item.waitFor({ timeout: 10_000 });
    expect(await item.textContent()).toContain('phường 5');
    expect(await item.textContent()).toContain('Mới');
    await page.locator('#live.on').waitFor({ timeout: 10_000 });
    expect(await page.locator('#counts button', { hasText: 'Mới' }).textContent()).toMatch(/Mới\s*1/);
    fs.mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/team-inbox.png' });

    // Open it: question, commune, channel, transcript, actions.
    await item.click();
    await page.locator('#d-text', { hasText: QUESTION }).waitFor({ timeout: 10_000 });
    expect(page.url()).toMatch(/#\/questions\//);
    expect(await page.locator('#d-meta').textContent()).toContain('phường 5');
    expect(await page.locator('#d-meta').textContent()).toContain('Web chat');
    await page.locator('#d-transcript .msg.from-user', { hasText: QUESTION }).first().waitFor();
    expect(await page.locator('#inbox').isVisible()).toBe(false); // one pane at a time on a phone

    // Answer it.
    await page.getByRole('button', { name: 'Trả lời', exact: true }).click();
    await page.locator('#answer-text').fill(ANSWER);
    await page.getByRole('button', { name: 'Gửi trả lời' }).click();
    const result = page.locator('#answer-result');
    await result.getByText('Đã gửi câu trả lời').waitFor({ timeout: 10_000 });
    expect(await result.textContent()).toContain('Web chat');
    await page.locator('#d-badges .badge.st-answered').waitFor({ timeout: 10_000 });
    await page.locator('#d-transcript .msg.from-team', { hasText: ANSWER }).waitFor({ timeout: 10_000 });

    // The citizen's conversation receives it.
    await dl.waitFor((bot) => bot.some((a) => a.text === `Tổ công nghệ số trả lời: ${ANSWER}`), 15_000);

    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: 'test-results/team.png' });
    await page.screenshot({ path: 'test-results/team-detail-full.png', fullPage: true });

    // Back in the inbox the item is answered (live update or reload).
    await page.locator('#back').click();
    await page
      .locator('#list a.item[data-status="answered"]', { hasText: QUESTION })
      .waitFor({ timeout: 10_000 });

    // Sign out forgets the token.
    await page.getByRole('button', { name: 'Đăng xuất' }).click();
    await page.locator('#signin').waitFor();
    expect(await page.evaluate("localStorage.getItem('tlcds.team.token')")).toBeNull();
    expect(await page.locator('#list a.item').count()).toBe(0);

    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);
});
