// End to end on the demo trio in Chromium against the real server (issue 8): with the default toxicity gate (issue
// 15), the issue's clean sentences stay untouched and no rewrite shown is more toxic than its original; with the gate
// off (MaRCo on every sentence) paste and detox a paragraph, see the highlighted words and the redline, reject one
// edit and accept another, save the document and the change log and check them byte for byte; open a Markdown file
// and keep its structure; cancel a long run and keep the finished sentences; restart the server and find the review
// where it was; detox a batch of three files with the gate's counts. Screenshots: test-results/screenshots/detox-*.png.

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Download, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoFolder } from '../../src-main/core/models/model-ref.ts';
import { sha256File } from '../../src-main/core/weights/fingerprint.ts';
import { defaultBlocklistPath } from '../../src-main/core/app-paths.ts';
import { presets, type DetoxBatchSummary } from '../../src-main/shared/index.ts';
import type { ChangeLog } from '../../src-renderer/src/lib/detox-changelog.ts';
import { screenshotDir, startE2eApp, type E2eApp } from '../support/e2e-app.ts';

const dataDir = mkdtempSync(join(os.tmpdir(), 'toxscope-e2e-detox-'));
let app: E2eApp;
let page: Page;
const pageErrors: string[] = [];

async function openApp() {
  process.env.TOXSCOPE_DATA_DIR = dataDir;
  app = await startE2eApp();
  page = app.page;
  await page.goto(`${app.server.url}#/detox`);
}

beforeAll(openApp);

afterAll(async () => {
  await app?.close();
});

const paragraph =
  'You are such a stupid idiot, nobody wants you here. Thanks for the help yesterday.\n' +
  'That was a dumb move, you moron. People like that are disgusting and should shut up.';

async function saved(click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
  const [download] = (await Promise.all([page.waitForEvent('download'), click()])) as [Download, void];
  return { name: download.suggestedFilename(), bytes: readFileSync((await download.path())!) };
}

const button = (name: string) => page.getByRole('button', { name, exact: true });

/** The source with every accepted or edited change of the log put in at its offsets. */
function applyLog(source: string, log: ChangeLog): string {
  const replacements = log.changes
    .filter((entry) => entry.decision === 'accepted' || entry.decision === 'edited')
    .flatMap((entry) => entry.occurrences.map((place) => ({ ...place, text: entry.final })))
    .sort((a, b) => b.start - a.start);
  let text = source;
  for (const { start, end, text: final } of replacements) text = text.slice(0, start) + final + text.slice(end);
  return text;
}

/** Runs the document; `replacing` a review with edits, the page asks first (detox-track-changes.test.ts tests it). */
async function runDetox(text: string, replacing = true) {
  await page.getByLabel('Text to detoxify').fill(text);
  await button('Detoxify').click();
  if (replacing) await confirmDiscard();
}

async function confirmDiscard() {
  const dialog = page.getByRole('dialog', { name: /^Discard the review of / });
  await dialog.getByRole('button', { name: 'Discard it and detoxify' }).click();
}

/** The reviewed document as Save document writes it: the pane's text without the words its markup shows deleted. */
const reviewedText = () =>
  page.getByTestId('detox-document').evaluate((element) => {
    const copy = element.cloneNode(true) as HTMLElement;
    for (const removed of copy.querySelectorAll('del')) removed.remove();
    return copy.textContent;
  });

async function waitUntilDone(status = 'done') {
  await expect
    .poll(() => page.getByTestId('detox-done').getAttribute('data-status'), { timeout: 120_000 })
    .toBe(status);
}

async function waitForAutosave() {
  await expect.poll(() => page.getByTestId('autosave').getAttribute('data-status')).toBe('saved');
}

/** The issue's paragraphs (issue 15, "Found when tried as a new user would"), exactly. */
const issueParagraphs = [
  'The meeting has moved to room 4. Thanks for the help yesterday, it made my week!',
  'You are a useless idiot. Garbage ideas, all of them.',
].join('\n\n');
const issueCleanSentences = ['The meeting has moved to room 4.', 'Thanks for the help yesterday, it made my week!'];

/** "0.93 → 0.12" as the review prints a score change. */
function scoreChange(text: string | null): { before: number; after: number } {
  const match = /(\d\.\d\d) → (\d\.\d\d)/.exec(text ?? '');
  expect(match, `a score change in "${text}"`).not.toBeNull();
  return { before: Number(match![1]), after: Number(match![2]) };
}

describe('the demo examples (issue 16)', () => {
  it('"detoxify the demo examples" on the Models page opens the Detox page with the examples in the editor', async () => {
    await page.goto(`${app.server.url}#/models`);
    await page.getByRole('link', { name: 'detoxify the demo examples' }).click();
    const examples = readFileSync(join(demoFolder(), 'detox-examples.txt'), 'utf8');
    await expect.poll(() => page.getByLabel('Text to detoxify').inputValue()).toBe(examples);
    await page.getByLabel('Text to detoxify').fill('');
    await button('Use the demo examples').click();
    expect(await page.getByLabel('Text to detoxify').inputValue()).toBe(examples);
    await page.getByLabel('Text to detoxify').fill('');
    await page.goto(`${app.server.url}#/detox`);
  });
});

describe('detox with the default toxicity gate (issue 15)', () => {
  /** Edits of the first review: with none, the next run has nothing to discard and does not ask. */
  let firstReviewEdits = 0;

  it('leaves the issue’s clean sentences untouched and shows no rewrite more toxic than its original', async () => {
    expect(await page.getByLabel('Classifier', { exact: true }).inputValue()).toBe('demo:classifier');
    expect(await page.getByLabel('Toxicity threshold').inputValue()).toBe('0.5');
    expect(await page.getByLabel('Max re-samples').inputValue()).toBe('3');
    expect(await page.getByRole('radio', { name: /^On: rewrite only sentences/ }).isChecked()).toBe(true);
    await runDetox(issueParagraphs, false); // the first review: nothing to discard
    await waitUntilDone();
    const done = (await page.getByTestId('detox-done').textContent())!;
    const [, rewritten, clean, refused] = /rewrote\s+(\d+),\s+left\s+(\d+)\s+clean\s+and\s+refused\s+(\d+)/
      .exec(done)!
      .map(Number);
    expect(rewritten! + clean! + refused!).toBe(4);
    firstReviewEdits = rewritten!;
    expect(clean).toBeGreaterThanOrEqual(2);
    expect(clean).toBeLessThan(4); // "You are a useless idiot." is toxic to the demo classifier

    // The clean sentences have no edit card; they are listed as left clean, with their scores.
    const edits = page.getByTestId('detox-edit');
    for (const sentence of issueCleanSentences) expect(await edits.filter({ hasText: sentence }).count()).toBe(0);
    const listed = await page.getByTestId('detox-clean-sentence').allTextContents();
    for (const sentence of issueCleanSentences) {
      const entry = listed.find((text) => text.includes(sentence));
      expect(entry, sentence).toMatch(/^\s*0\.\d\d\s/); // its score, at or below the threshold 0.5
    }

    // Every edit shows its score before → after, and none is more toxic than its original (as shown and as scored).
    expect(await edits.count()).toBe(rewritten);
    for (const toxicity of await edits.getByTestId('edit-toxicity').all()) {
      const shown = scoreChange(await toxicity.textContent());
      expect(shown.after).toBeLessThanOrEqual(shown.before);
      expect(Number(await toxicity.getAttribute('data-after'))).toBeLessThan(
        Number(await toxicity.getAttribute('data-before')),
      );
    }
    for (const reason of await page.getByTestId('refused-reason').allTextContents())
      expect(reason).toMatch(/refused|no word was masked/);
    const documentScore = scoreChange(await page.getByTestId('detox-document-toxicity').textContent());
    expect(documentScore.after).toBeLessThanOrEqual(documentScore.before);
    expect(await page.getByTestId('detox-document-toxicity').textContent()).toMatch(/by\s+demo:classifier/);
    await page.screenshot({ path: `${screenshotDir}/detox-gate-review.png`, fullPage: true });

    // With every rewrite accepted, the clean sentences are in the document byte for byte, and no profanity came in.
    if (rewritten! > 0) await button('Accept the rest').click();
    const reviewed = (await reviewedText())!;
    expect(reviewed).toContain(issueCleanSentences.join(' '));
    expect(reviewed).not.toMatch(/fuck|asian/i);
    await waitForAutosave();

    const log = JSON.parse(
      (await saved(() => button('Save change log (JSON)').click())).bytes.toString('utf8'),
    ) as ChangeLog;
    expect(log.gate).toMatchObject({
      classifier: 'demo:classifier',
      toxicityThreshold: 0.5,
      maxResamples: 3,
      blocklist: defaultBlocklistPath(),
      sha256: sha256File(join(demoFolder(), 'classifier', 'model.safetensors')),
      label: 'toxicity',
      counts: { rewritten, clean, refused },
    });
    expect(log.clean.map((entry) => entry.original)).toEqual(expect.arrayContaining(issueCleanSentences));
    for (const entry of log.changes) expect(entry.toxicity!.after!).toBeLessThan(entry.toxicity!.before);
  });

  it('shows each accepted rewrite’s score before → after, every label’s on hover, and the document’s score', async () => {
    await button('New document…').click();
    await runDetox(paragraph, firstReviewEdits > 0);
    await waitUntilDone();
    const edits = page.getByTestId('detox-edit');
    expect(await edits.count()).toBeGreaterThan(0); // the demo classifier accepts some of the trio's rewrites
    expect(await edits.filter({ hasText: 'Thanks for the help yesterday.' }).count()).toBe(0);
    for (const toxicity of await edits.getByTestId('edit-toxicity').all()) {
      const shown = scoreChange(await toxicity.textContent());
      expect(shown.after).toBeLessThanOrEqual(shown.before);
      // Only sentences above the threshold are rewritten.
      expect(Number(await toxicity.getAttribute('data-before'))).toBeGreaterThan(0.5);
    }
    const breakdown = edits.first().getByTestId('toxicity-breakdown');
    await edits.first().getByTestId('edit-toxicity').hover();
    expect(await breakdown.isVisible()).toBe(true);
    expect(await breakdown.textContent()).toMatch(/toxicity \d\.\d\d → \d\.\d\d/);
    const documentScore = scoreChange(await page.getByTestId('detox-document-toxicity').textContent());
    expect(documentScore.after).toBeLessThan(documentScore.before);
    await page.screenshot({ path: `${screenshotDir}/detox-gate-scores.png`, fullPage: true });
  });
});

describe('detox editor', () => {
  it('detoxes a pasted paragraph: highlighted words, a redline, and the scores of a change on hover', async () => {
    // MaRCo alone, as the paper runs it: every sentence gets a mask and a rewrite (the gate's own tests are above).
    await button('New document…').click();
    await page.getByRole('radio', { name: /^Off: rewrite every sentence/ }).check();
    await runDetox(paragraph);
    await waitUntilDone();
    expect(await page.getByTestId('detox-done').textContent()).toMatch(/Detoxed 4 distinct sentences: 4 edits\./);
    expect(await page.getByTestId('detox-gate-off').textContent()).toMatch(/gate off/);
    expect(await page.getByTestId('edit-toxicity').count()).toBe(0);
    const original = page.getByTestId('detox-original');
    expect(await original.locator('mark[data-level="masked"], mark[data-level="strong"]').count()).toBeGreaterThan(2);
    expect(await original.textContent()).toBe(paragraph); // the highlights are on the text, not in it
    const edits = page.getByTestId('detox-edit');
    expect(await edits.count()).toBe(4);
    const firstChange = edits.first().getByTestId('edit-diff').locator('.change').first();
    expect(await firstChange.locator('del, ins').count()).toBeGreaterThan(0);
    const scores = edits.first().getByTestId('change-scores').first();
    expect(await scores.isVisible()).toBe(false);
    await firstChange.hover();
    expect(await scores.isVisible()).toBe(true);
    expect(await scores.textContent()).toMatch(/score \d+\.\d\d, divergence \d+\.\d{4}/);
    await page.screenshot({ path: `${screenshotDir}/detox-review.png`, fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await firstChange.focus();
    await page.screenshot({ path: `${screenshotDir}/detox-review-dark.png`, fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('rejects one edit and accepts another; the saved document and change logs match byte for byte', async () => {
    await page.getByRole('button', { name: 'Reject the edit of sentence 1' }).click();
    await page.getByRole('button', { name: 'Accept the edit of sentence 3' }).click();
    await waitForAutosave();
    expect(await page.getByTestId('detox-counts').textContent()).toMatch(/4 edits: 1 accepted, 1 rejected, 2 not/);

    const json = await saved(() => button('Save change log (JSON)').click());
    expect(json.name).toBe('pasted-text.changes.json');
    const log = JSON.parse(json.bytes.toString('utf8')) as ChangeLog;
    expect(log.changes.map((entry) => [entry.sentence, entry.decision])).toEqual([
      [1, 'rejected'],
      [2, 'pending'],
      [3, 'accepted'],
      [4, 'pending'],
    ]);
    expect(log.models.base).toEqual({
      reference: 'demo:bart-base',
      sha256: sha256File(join(demoFolder(), 'bart-base', 'model.safetensors')),
    });
    expect(log.models.antiExpert.sha256).toBe(sha256File(join(demoFolder(), 'bart-anti-expert', 'model.safetensors')));
    expect(log.settings).toEqual(presets.magr);
    const accepted = log.changes[2]!;
    expect(accepted.original).toBe('That was a dumb move, you moron.');
    expect(paragraph.slice(accepted.occurrences[0]!.start, accepted.occurrences[0]!.end)).toBe(accepted.original);
    expect(accepted.final).toBe(accepted.rewrite);
    expect(accepted.scores.find((score) => score.word === 'dumb')?.masked).toBe(true);

    const document = await saved(() => button('Save document').click());
    expect(document.name).toBe('pasted-text.detoxed.txt');
    const expected = applyLog(paragraph, log);
    expect(expected).not.toBe(paragraph);
    expect(document.bytes.equals(Buffer.from(expected, 'utf8'))).toBe(true);
    expect(document.bytes.toString('utf8')).toContain('You are such a stupid idiot, nobody wants you here.'); // rejected
    expect(await reviewedText()).toBe(expected);

    const csv = await saved(() => button('Save change log (CSV)').click());
    expect(csv.name).toBe('pasted-text.changes.csv');
    const rows = csv.bytes.toString('utf8').split('\r\n');
    expect(rows[0]).toBe(
      'sentence,offsets,original,rewrite,final,decision,masked_words,scores,toxicity_before,toxicity_after,settings,base_sha256,expert_sha256,anti_expert_sha256,decided_at,decided_by,input_sha256,output_sha256',
    );
    expect(log.gate).toBeNull();
    expect(rows.length).toBe(6); // header, four edits, and the final line break
    const quoted = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
    const { start, end } = accepted.occurrences[0]!;
    expect(rows[3]!.startsWith(`3,${start}-${end},${quoted(accepted.original)},${quoted(accepted.rewrite)},`)).toBe(
      true,
    );
    expect(rows[3]).toContain(`,accepted,dumb,`);
    expect(
      rows[3]!.endsWith(
        `,${log.models.base.sha256},${log.models.expert.sha256},${log.models.antiExpert.sha256},${accepted.decidedAt},,${log.input.sha256},${log.output.sha256}`,
      ),
    ).toBe(true);
  });

  it('undoes and redoes a decision, also from the keyboard, and edits a rewrite by hand', async () => {
    await button('Undo').click();
    expect(await page.getByTestId('detox-counts').textContent()).toMatch(/0 accepted, 1 rejected/);
    await button('Redo').click();
    expect(await page.getByTestId('detox-counts').textContent()).toMatch(/1 accepted, 1 rejected/);
    await page.keyboard.press('Control+z');
    expect(await page.getByTestId('detox-counts').textContent()).toMatch(/0 accepted, 1 rejected/);
    await page.keyboard.press('Control+y');
    await page.getByRole('button', { name: 'Edit sentence 4 by hand' }).click();
    await page.getByLabel('Your wording for sentence 4').fill('People like that should be heard.');
    await button('Use this wording').click();
    const card = page.getByTestId('detox-edit').nth(3);
    expect(await card.getByTestId('edit-status').textContent()).toBe('Your wording');
    expect(await reviewedText()).toMatch(/People like that should be heard\.$/);
    await waitForAutosave();
  });

  it('re-runs one sentence with other settings, and undo brings the first rewrite back', async () => {
    const card = page.getByTestId('detox-edit').nth(1);
    const before = await card.getByTestId('edit-diff').textContent();
    await page.getByRole('button', { name: 'Re-run sentence 2 with other settings' }).click();
    await page.getByLabel('Threshold τ').last().fill('0.5');
    await page.getByLabel('α expert').last().fill('6');
    await button('Re-run sentence 2').click();
    await expect.poll(() => card.textContent(), { timeout: 60_000 }).toMatch(/re-run with τ 0\.5/);
    expect(
      await card.getByTestId('edit-original').locator('mark[data-level="masked"], mark[data-level="strong"]').count(),
    ).toBeGreaterThan(1);
    await button('Undo').click();
    expect(await card.textContent()).not.toMatch(/re-run with τ/);
    expect(await card.getByTestId('edit-diff').textContent()).toBe(before);
    await waitForAutosave();
  });

  it('opens a Markdown file with CRLF line endings and keeps its structure in the saved copy', async () => {
    await button('New document…').click();
    await page.getByLabel('Open a .txt or .md file').setInputFiles({
      name: 'report.docx',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('PK'),
    });
    expect(await page.getByRole('alert').textContent()).toMatch(
      /report\.docx is not a plain-text \(\.txt\) or Markdown/,
    );
    const markdown =
      '\ufeff# Weekly notes\r\n\r\nYou are such a stupid idiot.  Thanks for the help!\r\n\r\n' +
      '- That was a dumb move, you moron.\r\n- Have a nice day.\r\n\r\n```\r\nkeep this code, you idiot.\r\n```\r\n';
    await page.getByLabel('Open a .txt or .md file').setInputFiles({
      name: 'notes.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from(markdown, 'utf8'),
    });
    expect(await page.getByTestId('detox-source').textContent()).toMatch(/notes\.md \(Markdown,\s+CRLF line endings/);
    expect(await page.getByRole('alert').count()).toBe(0);
    await button('Detoxify').click();
    await confirmDiscard();
    await page.getByRole('heading', { name: 'Review of notes.md' }).waitFor(); // the new review replaced the last
    await waitUntilDone();
    await button('Accept the rest').click();
    await waitForAutosave();
    const json = await saved(() => button('Save change log (JSON)').click());
    const log = JSON.parse(json.bytes.toString('utf8')) as ChangeLog;
    expect(log.changes.length).toBeGreaterThan(0);
    expect(log.changes.every((entry) => entry.decision === 'accepted')).toBe(true);
    const document = await saved(() => button('Save document').click());
    expect(document.name).toBe('notes.detoxed.md');
    expect(document.bytes.equals(Buffer.from(applyLog(markdown, log), 'utf8'))).toBe(true);
    const text = document.bytes.toString('utf8');
    expect(text.startsWith('\ufeff# Weekly notes\r\n\r\n')).toBe(true);
    expect(text).toContain('\r\n\r\n```\r\nkeep this code, you idiot.\r\n```\r\n'); // code is never rewritten
    expect(text.match(/\r\n/g)?.length).toBe(markdown.match(/\r\n/g)?.length);
    expect(text.match(/(?<!\r)\n/g)).toBeNull();
    expect(text.split('\r\n').filter((line) => line.startsWith('- ')).length).toBe(2);
    await page.screenshot({ path: `${screenshotDir}/detox-markdown.png`, fullPage: true });
  });

  it('cancels a long run and keeps the finished sentences', async () => {
    const subjects = ['idiot', 'moron', 'fool', 'clown', 'loser', 'jerk', 'creep', 'slob'];
    const sentences = Array.from(
      { length: 240 },
      (_, index) => `Number ${index} is a stupid ${subjects[index % subjects.length]} and should shut up.`,
    );
    await button('New document…').click();
    await runDetox(sentences.join(' '));
    await expect
      .poll(() => page.getByTestId('detox-progress').textContent(), { timeout: 60_000 })
      .toMatch(/^[1-9]\d* of 240 sentences$/);
    await button('Cancel the run').click();
    await waitUntilDone('cancelled');
    const status = (await page.getByTestId('detox-done').textContent())!;
    const finished = Number(/after (\d+) of 240 sentences/.exec(status)?.[1]);
    expect(finished).toBeGreaterThan(0);
    expect(finished).toBeLessThan(240);
    expect(await page.getByTestId('detox-edit').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('detox-edit').count()).toBeLessThanOrEqual(finished);
    expect(await reviewedText()).toBe(sentences.join(' ')); // nothing accepted yet
    await page.getByRole('button', { name: 'Accept the edit of sentence 1' }).click();
    await waitForAutosave();
    await page.screenshot({ path: `${screenshotDir}/detox-cancelled.png`, fullPage: true });
  });

  it('finds the review where it was after the server restarts', async () => {
    const counts = await page.getByTestId('detox-counts').textContent();
    const document = await reviewedText();
    const edits = await page.getByTestId('detox-edit').count();
    pageErrors.push(...app.pageErrors);
    await app.close();
    await openApp();
    await page.getByTestId('detox-counts').waitFor();
    expect(await page.getByTestId('detox-counts').textContent()).toBe(counts);
    expect(await reviewedText()).toBe(document);
    expect(await page.getByTestId('detox-edit').count()).toBe(edits);
    expect(await page.getByTestId('detox-done').getAttribute('data-status')).toBe('cancelled');
    expect(await page.getByTestId('detox-edit').first().getByTestId('edit-status').textContent()).toBe('Accepted');
    await button('Undo').click(); // the undo history came back too
    expect(await page.getByTestId('detox-edit').first().getByTestId('edit-status').textContent()).toBe('Not reviewed');
    await button('Redo').click();
  });

  it('continues the cancelled run with the remaining sentences, keeping the decisions made', async () => {
    const before = Number(/after (\d+) of 240/.exec((await page.getByTestId('detox-done').textContent())!)?.[1]);
    await button('Continue with the remaining sentences').click();
    await waitUntilDone();
    expect(await page.getByTestId('detox-done').textContent()).toMatch(/Detoxed 240 distinct sentences/);
    expect(await page.getByTestId('detox-edit').first().getByTestId('edit-status').textContent()).toBe('Accepted');
    expect(await page.getByTestId('detox-edit').count()).toBeGreaterThan(before / 2); // the new sentences' edits joined
    await waitForAutosave();
  });
});

describe('batch detox', () => {
  it('detoxes a folder of three files into an output folder with a summary, refusing the input folder as output', async () => {
    const input = mkdtempSync(join(os.tmpdir(), 'toxscope-e2e-batch-'));
    const files: Record<string, string> = {
      'one.txt': 'You are such a stupid idiot. Thanks for the help yesterday.\n',
      'two.md': '# Notes\r\n\r\n- That was a dumb move, you moron.\r\n',
      'three.txt': 'People like that are disgusting and should shut up.',
    };
    for (const [name, content] of Object.entries(files)) writeFileSync(join(input, name), content);
    writeFileSync(join(input, 'photo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    const output = join(input, 'detoxed');

    await page.getByRole('tab', { name: 'Batch of files' }).click();
    await page.getByLabel('Input folder (.txt and .md files)').fill(input);
    await page.getByLabel('Output folder (created if missing)').fill(`${input}/`);
    expect(await button('Detox the folder').isDisabled()).toBe(true);
    expect(await page.locator('#batch-output-problem').textContent()).toMatch(/inputs are never overwritten/);

    await page.getByLabel('Output folder (created if missing)').fill(output);
    await button('Detox the folder').click();
    await page.getByTestId('batch-summary').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('batch-summary').textContent()).toMatch(
      /3 files detoxed: \d+ of 5\s+sentences changed \(\d+ words masked\) in [\d.]+ (ms|s)/,
    );
    expect(await page.getByTestId('batch-file').count()).toBe(3);
    expect(await page.getByText('Left alone (not .txt or .md): photo.png').isVisible()).toBe(true);
    const summary = JSON.parse(readFileSync(join(output, 'summary.json'), 'utf8')) as DetoxBatchSummary;
    expect(summary.files.map((file) => [file.name, file.status])).toEqual([
      ['one.txt', 'done'],
      ['three.txt', 'done'],
      ['two.md', 'done'],
    ]);
    expect(summary.skipped).toEqual(['photo.png']);
    expect(summary.totals.rewritten).toBeGreaterThan(0);
    // The gate is on by default in batch mode too: its counts cover every sentence, and the clean one is untouched.
    expect(summary.gate).toMatchObject({ classifier: 'demo:classifier', toxicityThreshold: 0.5 });
    expect(summary.gate!.rewritten + summary.gate!.clean + summary.gate!.refused).toBe(5);
    expect(summary.gate!.rewritten).toBe(summary.totals.rewritten);
    expect(await page.getByTestId('batch-gate-summary').textContent()).toMatch(
      new RegExp(
        `${summary.gate!.rewritten}\\s+sentences rewritten,\\s+${summary.gate!.clean}\\s+left clean,\\s+${summary.gate!.refused}\\s+rewrites refused`,
      ),
    );
    expect(readFileSync(join(output, 'one.txt'), 'utf8')).toContain(' Thanks for the help yesterday.\n');
    expect(readdirSync(output).sort()).toEqual([
      'batch-record.json',
      'explain',
      'manifest.json',
      'one.txt',
      'summary.json',
      'three.txt',
      'two.md',
    ]);
    for (const [name, content] of Object.entries(files)) expect(readFileSync(join(input, name), 'utf8')).toBe(content);
    expect(readFileSync(join(output, 'two.md'), 'utf8')).toMatch(/^# .*\r\n\r\n- .*\r\n$/);
    await page.screenshot({ path: `${screenshotDir}/detox-batch.png`, fullPage: true });

    // Results lists the batch where it was written; Open says what it did and where the documents are.
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Results' }).click();
    const row = page.getByTestId('result-row').filter({ hasText: 'detox batch' });
    await expect.poll(() => row.count(), { timeout: 30_000 }).toBe(1);
    expect(await row.locator('.description').textContent()).toBe(
      `Detox of 3 documents from ${input} · 5 sentences, ${summary.totals.rewritten} rewritten`,
    );
    await row.getByRole('button', { name: /^Open / }).click();
    await expect
      .poll(() => row.locator('.note').textContent())
      .toMatch(
        new RegExp(`^3 documents, 5 sentences, ${summary.totals.rewritten} rewritten in \\d+ s; the detoxed documents`),
      );
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Detox' }).click();
  });

  it('starts the gate with the Settings page’s default toxicity classifier, remembered after a restart', async () => {
    await page.goto(`${app.server.url}#/settings`);
    const field = page.getByLabel('Default toxicity classifier');
    await expect.poll(() => field.inputValue()).toBe('demo:classifier');
    await field.fill('unitary/toxic-bert');
    await field.press('Enter');
    await expect.poll(() => page.getByText('Saved.').count()).toBe(1);
    pageErrors.push(...app.pageErrors);
    await app.close();
    await openApp();
    await page.getByRole('tab', { name: 'Batch of files' }).click();
    await expect.poll(() => page.getByLabel('Classifier', { exact: true }).inputValue()).toBe('unitary/toxic-bert');
    await page.goto(`${app.server.url}#/settings`);
    await expect.poll(() => page.getByLabel('Default toxicity classifier').inputValue()).toBe('unitary/toxic-bert');
  });

  it('raised no uncaught errors in the page', () => {
    expect([...pageErrors, ...app.pageErrors]).toEqual([]);
  });
});
