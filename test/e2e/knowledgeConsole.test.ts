import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, runBrowserTests } from '../helpers/browser.js';
import { KNOWLEDGE_DIR, startApp, type RunningApp } from '../helpers/testApp.js';

const ADMIN_TOKEN = 'kb-console-admin-token';
// A citizen's question typed on a phone without diacritics.
const QUESTION = 'cach ky so tu xa tren dien thoai';
const GUIDE = 'guides/cks-ky-so-tu-xa-tren-dien-thoai.md';
const GUIDE_TITLE = 'Ký số từ xa trên điện thoại';
const REPO_EVAL_FILE = path.join(KNOWLEDGE_DIR, 'eval', 'staff.jsonl');
const readRepoEvalFile = () =>
  fs.existsSync(REPO_EVAL_FILE) ? fs.readFileSync(REPO_EVAL_FILE, 'utf8') : null;

describe.runIf(runBrowserTests)('knowledge console (/team#/kb) in headless Chromium', () => {
  let app: RunningApp;
  let browser: Browser;
  let knowledgeDir: string;
  const repoEvalBefore = readRepoEvalFile();

  beforeAll(async () => {
    // A copy of the knowledge base: the console writes to it (the eval file), never to the repository.
    knowledgeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlcds-kb-console-'));
    fs.cpSync(KNOWLEDGE_DIR, knowledgeDir, { recursive: true });
    fs.rmSync(path.join(knowledgeDir, 'eval', 'staff.jsonl'), { force: true });
    [app, browser] = await Promise.all([
      startApp({ ADMIN_TOKEN, KNOWLEDGE_DIR: knowledgeDir }),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (knowledgeDir) fs.rmSync(knowledgeDir, { recursive: true, force: true });
    if (app) fs.rmSync(app.config.dataDir, { recursive: true, force: true });
  });

  it('tests a question, shows each leg and the answer, records the expected document, lists documents', async () => {
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
    fs.mkdirSync('test-results', { recursive: true });

    // Sign in as the ICT admin: the knowledge tab is there.
    await page.goto(`${app.url}/team`);
    await page.locator('#token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Đăng nhập' }).click();
    await page.locator('#who').getByText('Quản trị', { exact: false }).waitFor({ timeout: 10_000 });
    const kbTab = page.getByRole('link', { name: 'Kiến thức' });
    expect(await kbTab.isVisible()).toBe(true);

    // Documents: every document with its chunk count.
    await kbTab.click();
    const guideItem = page.locator(`#kb-doc-list a.item[data-id="${GUIDE}"]`);
    await guideItem.waitFor({ timeout: 10_000 });
    expect(await page.locator('#kb-doc-list a.item').count()).toBeGreaterThan(30);
    expect(await guideItem.textContent()).toContain(GUIDE_TITLE);
    expect(await guideItem.textContent()).toContain('Hướng dẫn');
    expect(await guideItem.locator('.chunk-count').textContent()).toMatch(/^[1-9]\d* đoạn$/);
    expect(await page.locator('#kb-docs-summary').textContent()).toMatch(/\d+ tài liệu · \d+ đoạn/);
    await page.screenshot({ path: 'test-results/kb-documents.png' });

    // Its chunks as retrieval sees them.
    await guideItem.click();
    await page.locator('#kb-doc-title', { hasText: GUIDE_TITLE }).waitFor();
    const chunkCount = await page.locator('#kb-chunks .chunk').count();
    expect(chunkCount).toBeGreaterThan(0);
    expect(await page.locator('#kb-chunks .chunk .path').first().textContent()).toMatch(/\S/);
    expect(await page.locator('#kb-chunks-title').textContent()).toBe(
      `Các đoạn như trợ lý tìm thấy (${chunkCount})`,
    );
    expect(await page.locator('#kb-editor-box').isVisible()).toBe(true);

    // Hit testing.
    await page.locator('#kb .subtabs a', { hasText: 'Thử câu hỏi' }).click();
    await page.locator('#kb-hit-q').fill(QUESTION);
    await page.locator('#kb-hit-form button[type="submit"]').click();
    await page.locator('#kb-hit-fused .hit-row').first().waitFor({ timeout: 10_000 });
    expect(page.url()).toMatch(/#\/kb\/hit$/);
    expect(await page.locator('#kb-hit-status').textContent()).toMatch(/^\d+ đoạn tìm được · độ tin cậy/);

    // The question as retrieval reads it, and the synonym expansions.
    const query = (await page.locator('#kb-hit-query').textContent()) ?? '';
    expect(query).toContain('Sau chuẩn hoá');
    expect(query).toContain(QUESTION);
    const expansions = page.locator('#kb-hit-expansions li');
    expect(await expansions.count()).toBeGreaterThan(0);
    expect(await expansions.first().textContent()).toContain('→');

    // The fused ranking names the guide, with the rank of each leg.
    const fused = page.locator('#kb-hit-fused .hit-row');
    expect(await page.locator('#kb-hit-fused').textContent()).toContain(GUIDE_TITLE);
    expect(await fused.first().locator('.ranks').textContent()).toMatch(/Từ khóa (#\d+|—) · Ngữ nghĩa/);

    // Each leg (a tab on a phone) has ranked rows with scores.
    for (const [tab, leg] of [
      ['Từ khóa', 'lexical'],
      ['Ngữ nghĩa', 'vector'],
      ['Hỏi đáp', 'faq'],
    ] as const) {
      await page.getByRole('tab', { name: new RegExp(`^${tab}`) }).click();
      const rows = page.locator(`#kb-leg-${leg} .hit-row`);
      await rows.first().waitFor({ state: 'visible' });
      expect(await rows.first().locator('.rank').textContent()).toBe('1');
      expect(await rows.first().locator('.score').textContent()).toMatch(/^điểm \d/);
    }

    // Confidence against the threshold, and the answer the bot would give with its source.
    expect(await page.locator('#kb-hit-confidence').textContent()).toMatch(/ngưỡng trả lời \d/);
    const answer = page.locator('#kb-hit-answer .answer');
    await answer.waitFor();
    expect(await answer.locator('.sources').textContent()).toContain(GUIDE_TITLE);

    // "It should have found this document" → added to the eval set of the (copied) knowledge base.
    const row = page.locator(`#kb-hit-fused .hit-row[data-doc="${GUIDE}"]`).first();
    await row.getByRole('button', { name: 'Lẽ ra phải tìm thấy tài liệu này' }).click();
    await row.locator('.expected', { hasText: 'Đã thêm vào bộ câu hỏi đánh giá' }).waitFor();
    const lines = fs
      .readFileSync(path.join(knowledgeDir, 'eval', 'staff.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { q: string; expected: string[] });
    expect(lines).toContainEqual(expect.objectContaining({ q: QUESTION, expected: [GUIDE] }));
    expect(readRepoEvalFile()).toBe(repoEvalBefore); // the repository's knowledge is untouched

    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: 'test-results/kb-hit.png' });
    await row.scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'test-results/kb-hit-expected.png' });

    // The same page on a desktop: the three legs side by side.
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(await page.locator('#kb-leg-lexical').isVisible()).toBe(true);
    expect(await page.locator('#kb-leg-faq').isVisible()).toBe(true);
    await page.evaluate(
      "document.getElementById('kb-hit-legs-title').scrollIntoView(); window.scrollBy(0, -80)",
    );
    await page.screenshot({ path: 'test-results/kb-hit-desktop.png' });

    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
