// Runs the web builds in headless Chromium (Debian's /usr/bin/chromium)
// through playwright-core: the end-to-end suite, the demo page (with a
// screenshot and a check of what it shows) and the benchmark.
// Usage: node run.js WEB_DIR [tests|demo|bench ...]
'use strict';
const path = require('path');
const { chromium } = require('playwright-core');
const { serve } = require('./serve.js');

const dir = path.resolve(process.argv[2] || 'build/web');
const what = process.argv.slice(3).length ? process.argv.slice(3) : ['tests', 'demo'];

async function runPage(browser, port, prog, args, until, timeoutMs) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  const lines = [];
  let exitCode = null;
  page.on('console', (msg) => {
    const text = msg.text();
    const m = /^\[exit (-?\d+)\]$/.exec(text);
    if (m) exitCode = Number(m[1]);
    else lines.push(text);
  });
  page.on('pageerror', (err) => lines.push('page error: ' + err.message));
  await page.goto(`http://127.0.0.1:${port}/page.html?prog=${prog}&args=${args.join(',')}`);
  const start = Date.now();
  while (exitCode === null && !lines.some((l) => until.test(l)) && Date.now() - start < timeoutMs) {
    await new Promise((r) => setTimeout(r, 100));
  }
  // Let the exit notice arrive after the last line.
  for (let i = 0; i < 20 && exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  return { page, lines, exitCode, timedOut: Date.now() - start >= timeoutMs };
}

async function main() {
  const server = await serve(dir, 0);
  const port = server.address().port;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let failed = false;
  try {
    console.log('# ' + browser.version() + ' (Chromium, headless)');
    if (what.includes('tests')) {
      const args = process.env.BROWSER_FIXTURES ? ['/streams', '/fixtures'] : ['/streams'];
      const r = await runPage(browser, port, 'tests', args, /^\d+ passed, \d+ failed$/, 120000);
      r.lines.forEach((l) => console.log(l));
      const summary = r.lines.find((l) => /^\d+ passed, \d+ failed$/.test(l));
      if (!summary || !/ 0 failed$/.test(summary) || r.timedOut) {
        console.log('browser tests: ' + (r.timedOut ? 'timed out' : 'failed'));
        failed = true;
      }
      await r.page.close();
    }
    if (what.includes('demo')) {
      const r = await runPage(browser, port, 'demo', ['/streams'], /^label lookup/, 60000);
      const shot = path.join(dir, 'demo.png');
      await r.page.screenshot({ path: shot, fullPage: true });
      const shown = await r.page.textContent('#out');
      const expected = ['(5 + 100) * 3 = 315', 'countdown: moved 100000 units', 'label lookup of a loaded module'];
      const missing = expected.filter((t) => !shown.includes(t));
      r.lines.forEach((l) => console.log('demo | ' + l));
      console.log(`demo page: screenshot ${shot}; ${missing.length ? 'MISSING ' + missing.join(' / ') : 'shows the expected results'}`);
      console.log(missing.length ? '0 passed, 1 failed' : '1 passed, 0 failed');
      if (missing.length) failed = true;
      await r.page.close();
    }
    if (what.includes('bench')) {
      const r = await runPage(browser, port, 'bench', ['/streams', '/tmp/bench.json', process.env.WASM_BYTES_ADDED || '0',
        encodeURIComponent(browser.version())], /^wrote /, 600000);
      r.lines.forEach((l) => console.log('browser | ' + l));
      if (r.timedOut) failed = true;
      await r.page.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
