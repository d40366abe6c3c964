import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { expect } from '@playwright/test';
import { launchChromium, runBrowserTests } from '../helpers/browser.js';
import { startApp, type RunningApp } from '../helpers/testApp.js';

describe.runIf(runBrowserTests)('web chat page in headless Chromium', () => {
  let app: RunningApp;
  let browser: Browser;
  beforeAll(async () => {
    app = await startApp({ BRAND_NAME: 'Trợ lý Công dân số Cần Thơ' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('welcomes, answers with a source, follows a suggested action, and keeps the history after a reload', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'vi-VN' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });

    const response = await page.goto(`${app.url}/`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(await page.locator('h1').textContent()).toBe('Trợ lý Công dân số Cần Thơ');
    await page.getByText('Xin chào! Mình là', { exact: false }).first().waitFor({ timeout: 20_000 });

    const input = page.locator('[data-id="webchat-sendbox-input"]');
    await input.fill('lam sao kich hoat vneid muc 2');
    await input.press('Enter');
    await page.getByText('Nguồn:', { exact: false }).first().waitFor({ timeout: 20_000 });
    expect(await page.getByText('Nhập mã kích hoạt', { exact: false }).first().isVisible()).toBe(true);

    // A suggested action: the feedback button.
    await page
      .getByRole('button', { name: /Hữu ích/ })
      .first()
      .click();
    await page.getByText('Cảm ơn bạn đã phản hồi', { exact: false }).first().waitFor({ timeout: 20_000 });

    // "Chữ lớn" toggles large text and is remembered.
    await page.locator('#large-text').click();
    expect(await page.locator('#webchat').getAttribute('class')).toMatch(/large/);

    fs.mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/webchat.png' });

    await page.reload();
    await page.getByText('lam sao kich hoat vneid muc 2').first().waitFor({ timeout: 20_000 });
    await page.getByText('Cảm ơn bạn đã phản hồi', { exact: false }).first().waitFor({ timeout: 20_000 });
    expect(await page.locator('#webchat').getAttribute('class')).toMatch(/large/);
    await page.screenshot({ path: 'test-results/webchat-after-reload.png' });
    expect(errors).toEqual([]);
    await context.close();
  });
});
