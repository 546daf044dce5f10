// The example service's live dashboard in a real browser: playwright-core drives Debian's chromium
// (`.ci/run` installs it). The page shows the pool's figures, they change as requests run, and a
// screenshot is saved (DASHBOARD_SCREENSHOT_DIR, default the system's temp dir).
// Without a browser: skipped with one line outside CI; with CI=true, a failure.
import { accessSync, constants, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { chromium } from 'playwright-core';
import { expect, test } from 'vitest';
import { startServer } from '../examples/service/spawn.ts';
import { encode } from '../workers/image/codec.ts';
import { smooth } from './fixtures/images/generate.ts';

/** CHROMIUM_PATH, or the first `chromium` / `chromium-browser` on PATH. */
function findChromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of ['chromium', 'chromium-browser']) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

const browserPath = findChromium();
const ci = process.env.CI === 'true';
if (browserPath === undefined && !ci) {
  console.warn('test/dashboard.test.ts skipped: no chromium on PATH (install it: sudo apt-get install chromium, or set CHROMIUM_PATH)');
}

const jpeg = encode(smooth(480, 360), { format: 'jpeg' }) as Uint8Array;

test.skipIf(browserPath === undefined && !ci)('the dashboard shows the pool, its figures change as tasks run, and a screenshot is saved', async () => {
  expect(browserPath, 'CI=true and no chromium on PATH: install it (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH').toBeDefined();
  const server = await startServer(['--threads', '2']);
  const browser = await chromium.launch({ executablePath: browserPath!, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${server.url}/dashboard`);

    // The pool's figures, before any task: two idle threads, nothing queued or done.
    await page.waitForFunction("document.getElementById('threads').textContent === '2'");
    expect(await page.locator('#mode').textContent()).toBe('tessera');
    expect(await page.locator('.thread').count()).toBe(2);
    expect(await page.locator('.thread.busy').count()).toBe(0);
    expect(await page.locator('#queued').textContent()).toBe('0');
    expect(await page.locator('#completed').textContent()).toBe('0');
    expect(await page.locator('#failures').textContent()).toContain('none');

    // Tasks run: eight thumbnails and one corrupt upload.
    const post = (body: Uint8Array): Promise<number> => fetch(`${server.url}/thumbnails?sizes=128x128`, { method: 'POST', body }).then((r) => r.status);
    const statuses = await Promise.all([...Array.from({ length: 8 }, () => post(jpeg)), post(jpeg.subarray(0, 200))]);
    expect(statuses.sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 400]);

    // The page catches up by itself (it polls; expressions are strings: this file has no DOM types): counts, latency, throughput and the failure appear.
    await page.waitForFunction("document.getElementById('completed').textContent === '8' && document.getElementById('failed').textContent === '1'");
    expect(await page.locator('#requests-ok').textContent()).toBe('8');
    expect(Number(await page.locator('#p50').textContent())).toBeGreaterThan(0);
    expect(Number(await page.locator('#p99').textContent())).toBeGreaterThanOrEqual(Number(await page.locator('#p50').textContent()));
    expect(Number(await page.locator('#throughput').textContent())).toBeGreaterThan(0);
    expect(await page.locator('#failures td.code').first().textContent()).toBe('TESSERA_IMAGE_CORRUPT');
    expect(await page.locator('#chart-load canvas').count()).toBe(1);
    expect(await page.locator('#chart-latency canvas').count()).toBe(1);
    expect(pageErrors).toEqual([]);

    const path = join(process.env.DASHBOARD_SCREENSHOT_DIR ?? tmpdir(), 'tessera-dashboard.png');
    await page.screenshot({ path, fullPage: true });
    expect(statSync(path).size).toBeGreaterThan(10_000);
    console.log(`dashboard screenshot: ${path}`);
  } finally {
    await browser.close();
    expect(await server.stop()).toBe(0);
  }
});
