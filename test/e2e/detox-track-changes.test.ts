// The detox review as track changes (issue 16), in Chromium against the real server, on a 3,600-sentence review
// stored as the autosaved review (built by the review model's own functions; no model runs until the last test):
// keyboard navigation across every page of edits, accept/reject-and-next, the pending-only filter, the reviewed
// document's markup, original sentences that lead to their cards, the reviewer and sha256 in the change log, and a
// question before a new run discards the review. Screenshots at 1440 and 1024 px, light and dark:
// test-results/screenshots/detox-track-changes-*.png.

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Download, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeUserStore } from '../../src-main/core/store/user-store.ts';
import type { ChangeLog } from '../../src-renderer/src/lib/detox-changelog.ts';
import { longReview } from '../support/detox-review-fixture.ts';
import { screenshotDir, startE2eApp, tourShot, type E2eApp } from '../support/e2e-app.ts';

const sentenceCount = 3600;
const review = longReview(sentenceCount);
/** Every 12th sentence has no edit. */
const editIds = review.sentences
  .filter((sentence) => sentence.rewrite !== sentence.text)
  .map((sentence) => sentence.id);
const dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-e2e-track-changes-'));
let app: E2eApp;
let page: Page;
/** Native dialogs (window.confirm and the like) the page opened: the review must ask in the page instead. */
const nativeDialogs: string[] = [];

beforeAll(async () => {
  process.env.TOXSCOPE_DATA_DIR = dataDir;
  writeUserStore(dataDir, 'detox-review', review);
  app = await startE2eApp();
  page = app.page;
  page.on('dialog', (dialog) => {
    nativeDialogs.push(dialog.message());
    void dialog.dismiss();
  });
}, 60_000);

afterAll(async () => {
  await app?.close();
});

const button = (name: string) => page.getByRole('button', { name, exact: true });
const card = (id: number) => page.locator(`#edit-card-${id}`);
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** The id of the focused edit card, or null when focus is elsewhere. */
const focusedCard = () =>
  page.evaluate(() => {
    const id = document.activeElement?.id ?? '';
    return id.startsWith('edit-card-') ? Number(id.slice('edit-card-'.length)) : null;
  });

/** Whether an element's top lies in the window below the sticky edit navigator (the page scrolled to it). */
async function inView(locator: ReturnType<Page['locator']>): Promise<boolean> {
  const box = await locator.boundingBox();
  const navigator = await page.getByTestId('detox-navigator').boundingBox();
  const viewport = page.viewportSize()!;
  return box !== null && navigator !== null && box.y >= navigator.y + navigator.height && box.y < viewport.height - 40;
}

async function press(key: string) {
  await page.keyboard.press(key);
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

async function saved(click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [download] = (await Promise.all([page.waitForEvent('download'), click()])) as [Download, void];
  return { name: download.suggestedFilename(), bytes: readFileSync((await download.path())!) };
}

/** The reviewed document as saved: the markup pane's text without the deleted words. */
const documentText = () =>
  page.getByTestId('detox-document').evaluate((element) => {
    const copy = element.cloneNode(true) as HTMLElement;
    for (const removed of copy.querySelectorAll('del')) removed.remove();
    return copy.textContent;
  });

/** Puts the keyboard in the review with nothing focused in it (as after reading the page). */
async function clickEditsHeading() {
  await page.getByRole('heading', { name: 'Edits', exact: true }).click();
}

describe('a 3,600-sentence review from the keyboard (issue 16)', () => {
  let startedAt = 0;

  it('takes the reviewer name from Settings, remembered like the other settings', async () => {
    await page.goto(`${app.server.url}#/settings`);
    const field = page.getByLabel('Reviewer name');
    await field.fill('Ada Lovelace');
    await field.press('Enter');
    await expect.poll(() => page.getByText('Reviewer saved.').count()).toBe(1);
    const stored = JSON.parse(readFileSync(join(dataDir, 'store', 'settings.json'), 'utf8')) as { reviewer: string };
    expect(stored.reviewer).toBe('Ada Lovelace');
  });

  it('opens with a hundred edit cards to a page and the whole document in both panes', async () => {
    await page.goto(`${app.server.url}#/detox`);
    await page.getByTestId('detox-counts').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('detox-counts').textContent()).toContain(
      `${editIds.length} edits: 0 accepted, 0 rejected, ${editIds.length} not reviewed`,
    );
    expect(await page.getByTestId('detox-edit').count()).toBe(100);
    expect(await page.getByTestId('detox-page').first().textContent()).toBe('Edits 1–100 of 3,300');
    expect(await page.getByTestId('detox-original').locator('.sentence').count()).toBe(sentenceCount);
    expect(await page.getByTestId('detox-original').textContent()).toBe(review.source.text);
    expect(await page.getByTestId('detox-document').locator('[data-state="pending"]').count()).toBe(editIds.length);
    expect(await documentText()).toBe(review.source.text); // nothing accepted yet
  });

  it('documents its keys on the page and on the buttons', async () => {
    const legend = (await page.getByTestId('detox-shortcuts').textContent())!.replace(/\s+/g, ' ');
    expect(legend).toContain('J/N next edit');
    expect(legend).toContain('K/P previous edit');
    expect(legend).toContain('A accept, then the next pending edit');
    expect(legend).toContain('R reject, then the next pending edit');
    expect(await button('Next edit').getAttribute('aria-keyshortcuts')).toBe('J N');
    expect(await button('Previous edit').getAttribute('aria-keyshortcuts')).toBe('K P');
    expect(await button('Accept and next').getAttribute('aria-keyshortcuts')).toBe('A');
    expect(await button('Reject and next').getAttribute('aria-keyshortcuts')).toBe('R');
    expect(await button('Undo').getAttribute('aria-keyshortcuts')).toBe('Control+Z');
  });

  it('goes to the first edit with J, accepts with A and rejects with R, each time moving on to the next', async () => {
    startedAt = Date.now();
    await clickEditsHeading();
    await press('j');
    expect(await focusedCard()).toBe(editIds[0]);
    expect(await card(editIds[0]!).getAttribute('aria-current')).toBe('true');
    await press('a');
    expect(await card(editIds[0]!).getByTestId('edit-status').textContent()).toBe('Accepted');
    expect(await focusedCard()).toBe(editIds[1]);
    await press('r');
    expect(await card(editIds[1]!).getByTestId('edit-status').textContent()).toBe('Rejected');
    expect(await focusedCard()).toBe(editIds[2]);
    await press('k');
    expect(await focusedCard()).toBe(editIds[1]);
    await press('n');
    expect(await focusedCard()).toBe(editIds[2]);
    expect(await page.getByTestId('detox-current').textContent()).toBe(
      `Sentence ${editIds[2]! + 1}: edit 3 of 3,300 shown`,
    );
    expect(await page.getByTestId('detox-counts').textContent()).toContain('1 accepted, 1 rejected, 3298 not reviewed');
    // The original pane outlines the current edit's sentence.
    expect(await page.locator(`[data-testid="detox-original"] .sentence.current`).getAttribute('data-sentence')).toBe(
      String(editIds[2]),
    );
  });

  it('decides with a mouse click on a card that was not current (the page does not move under the pointer)', async () => {
    const other = card(editIds[5]!);
    await other.getByRole('button', { name: `Reject the edit of sentence ${editIds[5]! + 1}`, exact: true }).click();
    expect(await other.getByTestId('edit-status').textContent()).toBe('Rejected');
    expect(await other.getAttribute('aria-current')).toBe('true');
    await other.getByRole('button', { name: `Reject the edit of sentence ${editIds[5]! + 1}`, exact: true }).click();
    expect(await other.getByTestId('edit-status').textContent()).toBe('Not reviewed');
    await card(editIds[2]!).focus();
  });

  it('leaves letters typed in a field alone', async () => {
    await button('Edit sentence 3 by hand').click();
    const field = page.getByLabel('Your wording for sentence 3');
    await field.fill('');
    await field.pressSequentially('jar');
    expect(await field.inputValue()).toBe('jar');
    expect(await page.getByTestId('detox-counts').textContent()).toContain('1 accepted, 1 rejected');
    await button('Cancel').click();
  });

  it('walks a page boundary with J and K, and the pager shows the page the current edit is on', async () => {
    await button('Next 100').first().click();
    expect(await page.getByTestId('detox-page').first().textContent()).toBe('Edits 101–200 of 3,300');
    expect(await focusedCard()).toBe(editIds[100]);
    expect(await inView(card(editIds[100]!))).toBe(true);
    await press('k');
    expect(await page.getByTestId('detox-page').first().textContent()).toBe('Edits 1–100 of 3,300');
    expect(await focusedCard()).toBe(editIds[99]);
    expect(await inView(card(editIds[99]!))).toBe(true);
    await press('j');
    expect(await focusedCard()).toBe(editIds[100]);
  });

  it('goes from a sentence of the original to its card, here the last edit of the document, and stops there', async () => {
    const last = editIds.at(-1)!;
    const sentence = page.locator(`[data-testid="detox-original"] .sentence[data-sentence="${last}"]`);
    await sentence.scrollIntoViewIfNeeded();
    await sentence.click();
    expect(await page.getByTestId('detox-page').first().textContent()).toBe('Edits 3,201–3,300 of 3,300');
    expect(await focusedCard()).toBe(last);
    expect(await inView(card(last))).toBe(true);
    await press('j'); // the end: stays
    expect(await focusedCard()).toBe(last);
    // Deciding the last edit goes back to the first one still pending (the reviewer skipped it).
    await press('a');
    expect(await sentence.getAttribute('data-decision')).toBe('accepted');
    expect(await focusedCard()).toBe(editIds[2]);
    expect(await page.getByTestId('detox-page').first().textContent()).toBe('Edits 1–100 of 3,300');
  });

  it('shows only the pending edits on request, and accept-and-next goes through them', async () => {
    await page.getByLabel('Pending only').check();
    expect(await page.getByTestId('detox-page').first().textContent()).toBe('Edits 1–100 of 3,297');
    const statuses = await page.getByTestId('detox-edit').getByTestId('edit-status').allTextContents();
    expect(new Set(statuses)).toEqual(new Set(['Not reviewed']));
    expect(await card(editIds[0]!).count()).toBe(0); // accepted: hidden
    await card(editIds[2]!).focus();
    for (let step = 0; step < 5; step++) await press('a');
    expect(await focusedCard()).toBe(editIds[7]);
    expect(await card(editIds[2]!).count()).toBe(0);
    expect(await page.getByTestId('detox-page').first().textContent()).toBe('Edits 1–100 of 3,292');
    expect(await page.getByTestId('detox-counts').textContent()).toContain('7 accepted, 1 rejected, 3292 not reviewed');
    // A decided sentence's card comes back (the filter turns off) when its sentence is clicked in the original.
    await page.locator(`[data-testid="detox-original"] .sentence[data-sentence="${editIds[1]}"]`).click();
    expect(await page.getByLabel('Pending only').isChecked()).toBe(false);
    expect(await focusedCard()).toBe(editIds[1]);
  });

  it('marks the accepted changes up in the reviewed document, and shows the saved text without markup', async () => {
    const accepted = page.locator(`[data-testid="detox-document"] [data-sentence="${editIds[0]}"]`);
    expect(await accepted.getAttribute('data-state')).toBe('changed');
    expect(await accepted.locator('del').allTextContents()).toEqual(['stupid', 'shut']);
    expect(await accepted.locator('ins').allTextContents()).toEqual(['kind', 'speak']);
    const rejected = page.locator(`[data-testid="detox-document"] [data-sentence="${editIds[1]}"]`);
    expect(await rejected.count()).toBe(0); // kept as written: plain text
    expect(
      await page.locator(`[data-testid="detox-document"] [data-sentence="${editIds[8]}"]`).getAttribute('data-state'),
    ).toBe('pending');
    const document = await saved(() => button('Save document').click());
    expect(await documentText()).toBe(document.bytes.toString('utf8'));
    await page.getByLabel('Show changes').uncheck();
    expect(await page.getByTestId('detox-document').locator('del, ins').count()).toBe(0);
    expect(await page.getByTestId('detox-document').textContent()).toBe(document.bytes.toString('utf8'));
    await page.getByLabel('Show changes').check();
    // A click on a marked sentence goes to its card.
    await accepted.click();
    expect(await focusedCard()).toBe(editIds[0]);
  });

  it('writes the reviewer, each decision’s time and the sha256 of the document read and saved in the change log', async () => {
    const finishedAt = Date.now();
    const document = await saved(() => button('Save document').click());
    const log = JSON.parse(
      (await saved(() => button('Save change log (JSON)').click())).bytes.toString('utf8'),
    ) as ChangeLog;
    expect(log.reviewer).toBe('Ada Lovelace');
    expect(log.startedAt).toBe(review.startedAt);
    expect(Date.parse(log.writtenAt)).toBeGreaterThanOrEqual(finishedAt);
    expect(log.input).toEqual({ sha256: sha256(review.source.text), bytes: Buffer.byteLength(review.source.text) });
    expect(log.output).toEqual({ sha256: sha256(document.bytes), bytes: document.bytes.length });
    expect(log.output.sha256).not.toBe(log.input.sha256);
    const decided = log.changes.filter((entry) => entry.decision !== 'pending');
    expect(decided.map((entry) => [entry.sentence, entry.decision])).toEqual(
      [
        ...[0, 2, 3, 4, 5, 6].map((index) => [editIds[index]! + 1, 'accepted']),
        [editIds[1]! + 1, 'rejected'],
        [editIds.at(-1)! + 1, 'accepted'],
      ].sort((a, b) => (a[0] as number) - (b[0] as number)),
    );
    for (const entry of decided) {
      expect(entry.decidedBy).toBe('Ada Lovelace');
      expect(Date.parse(entry.decidedAt!)).toBeGreaterThanOrEqual(startedAt);
      expect(Date.parse(entry.decidedAt!)).toBeLessThanOrEqual(finishedAt);
    }
    expect(log.changes.find((entry) => entry.decision === 'pending')).toMatchObject({
      decidedAt: null,
      decidedBy: null,
    });

    const rows = (await saved(() => button('Save change log (CSV)').click())).bytes.toString('utf8').split('\r\n');
    const header = rows[0]!.split(',');
    expect(header.slice(-4)).toEqual(['decided_at', 'decided_by', 'input_sha256', 'output_sha256']);
    const first = rows[1]!.split(',');
    expect(first.slice(-4)).toEqual([decided[0]!.decidedAt, 'Ada Lovelace', log.input.sha256, log.output.sha256]);
  });

  it('takes screenshots at 1440 and 1024 px, light and dark', async () => {
    await clickEditsHeading();
    await press('j');
    for (const width of [1440, 1024])
      for (const scheme of ['light', 'dark'] as const) {
        await page.setViewportSize({ width, height: 900 });
        await page.emulateMedia({ colorScheme: scheme });
        await page.screenshot({ path: `${screenshotDir}/detox-track-changes-${width}-${scheme}.png` });
        if (width === 1440 && scheme === 'light') await tourShot(page, '5-detox-review');
      }
    // Scrolled down the cards: the edit navigator stays at the top; then the reviewed document's markup.
    await press('j');
    await press('j');
    await page.getByTestId('detox-edit').nth(6).scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${screenshotDir}/detox-track-changes-1024-dark-scrolled.png` });
    await page.getByTestId('detox-document').scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${screenshotDir}/detox-track-changes-1024-dark-markup.png` });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});

describe('a new run over a review (issue 16)', () => {
  it('asks in the page before discarding the review, and keeps it when told to', async () => {
    const counts = await page.getByTestId('detox-counts').textContent();
    await button('New document…').click();
    await page.getByLabel('Text to detoxify').fill('You are such a stupid idiot.');
    await page.getByRole('radio', { name: /^Off: rewrite every sentence/ }).check();
    await button('Detoxify').click();
    const dialog = page.getByRole('dialog', { name: 'Discard the review of long-report.txt?' });
    await dialog.waitFor();
    expect(await dialog.getByTestId('discard-summary').textContent()).toMatch(
      /Its 3300 edits \(7 accepted, 1 rejected, 3292 not reviewed\)\s+and its undo history are replaced/,
    );
    await page.screenshot({ path: `${screenshotDir}/detox-track-changes-discard.png` });
    // Focus starts on the safe choice; Escape keeps the review.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Keep reviewing');
    await page.keyboard.press('Escape');
    expect(await dialog.isVisible()).toBe(false);
    await button('Detoxify').click();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Keep reviewing' }).click();
    expect(await dialog.isVisible()).toBe(false);
    expect(await page.getByRole('heading', { name: 'Review of long-report.txt' }).isVisible()).toBe(true);
    expect(await page.getByTestId('detox-counts').textContent()).toBe(counts);
    expect(await button('Undo').isDisabled()).toBe(false);
  });

  it('saves the old review’s change log from the question, then discards it and runs the new document', async () => {
    await button('Detoxify').click();
    const dialog = page.getByRole('dialog', { name: 'Discard the review of long-report.txt?' });
    await dialog.waitFor();
    const log = await saved(() => dialog.getByRole('button', { name: 'Save its change log (JSON)' }).click());
    expect(log.name).toBe('long-report.changes.json');
    expect((JSON.parse(log.bytes.toString('utf8')) as ChangeLog).counts.accepted).toBe(7);
    expect(await dialog.isVisible()).toBe(true);
    await dialog.getByRole('button', { name: 'Discard it and detoxify' }).click();
    await page.getByRole('heading', { name: 'Review of pasted text' }).waitFor();
    await expect
      .poll(() => page.getByTestId('detox-done').getAttribute('data-status'), { timeout: 120_000 })
      .toBe('done');
    expect(await button('Undo').isDisabled()).toBe(true);
    expect(nativeDialogs).toEqual([]);
    expect(app.pageErrors).toEqual([]);
  });
});
