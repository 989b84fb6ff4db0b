// AtomVM's own Emscripten test pages (src/platforms/emscripten/tests/src:
// test_atomvm, test_call, test_html5) in headless Chromium, with the checks
// of AtomVM's cypress specs (tests/cypress/e2e/*.spec.cy.js) rewritten for
// playwright, on the web build with this library; then the time each page
// takes to become ready, loads alternating between this library's build and
// upstream's.
//
//   NODE_PATH=tests/browser/node_modules node web.js LANE_DIR OUT.json
//
// Files are served as AtomVM's wasm_webserver serves them (web-server.js).
'use strict';
const fs = require('fs');
const path = require('path');
const { serve, launch } = require('./web-server');
const median = require('./median');

const [lane, out] = process.argv.slice(2);
// Loads of each test page and build when timing readiness.
const LOADS = Math.max(1, Number(process.env.ATOMVM_LANE_WEB_LOADS) || 6);

const T = 60000; // a JIT build compiles the pages' modules when they load
const checks = {
  atomvm: [
    ['should return platform', async (p) => p.locator('#platform').filter({ hasText: 'emscripten' }).waitFor({ timeout: T })],
    ['should compute pi with a reasonable error', async (p) => p.locator('#pierror').filter({ hasText: 'true' }).waitFor({ timeout: T })],
  ],
  call: [
    ['should resolve an integer', (p) => call(p, 'main', 'resolve-42', '#result', '42')],
    ['should resolve a string', (p) => call(p, 'main', 'resolve-ok', '#result', 'ok')],
    ['should reject an integer', (p) => call(p, 'main', 'reject-42', '#error', '42')],
    ['should reject a string', (p) => call(p, 'main', 'reject-ok', '#error', 'ok')],
    ['should reject an unknown process', (p) => call(p, 'unknown', 'resolve-ok', '#error', 'noproc')],
    ['should reject a garbage collected promise', (p) => call(p, 'main', 'ignore', '#error', 'noproc')],
  ],
  html5: [
    ['should process several events', async (p) => {
      await p.click('#register-and-loop', { timeout: T });
      await expectCount(p, '#result span.timestamp', 1);
      await p.click('#register-once-and-exit', { timeout: T });
      await expectCount(p, '#result span.timestamp', 2);
    }],
    ['should not crash or leak when process dies', async (p) => {
      await p.click('#memory-binary', { timeout: T });
      await p.click('#register-once-and-exit', { timeout: T });
      await expectCount(p, '#result span.timestamp', 1);
      await p.click('#register-once-and-exit', { timeout: T });
      await expectCount(p, '#result span.timestamp', 1);
      await p.click('#memory-binary', { timeout: T });
      await expectCount(p, '#result span.binary', 2);
      const [first, last] = await p.$$eval('#result span.binary', (s) => [s[0].textContent, s[s.length - 1].textContent]);
      if (!(parseInt(last.trim()) < parseInt(first.trim()))) throw new Error(`binary memory ${first} -> ${last}`);
    }],
  ],
};

async function call(p, target, message, where, text) {
  await p.locator('#call-button:enabled').waitFor({ timeout: T });
  await p.fill('#target-input', target);
  await p.fill('#message-input', message);
  await p.click('#call-button');
  await p.locator(where).filter({ hasText: text }).waitFor({ timeout: T });
}

async function expectCount(p, selector, n) {
  await p.waitForFunction(([s, n]) => document.querySelectorAll(s).length === n, [selector, n], { timeout: T });
}

// The same moment as the page sees it: performance.now() (from the
// navigation's start) when the page became usable, recorded by observers
// installed before the page's scripts run. This is the figure compared.
function markReady() {
  const ready = { call: () => { const b = document.getElementById('call-button'); return b && !b.disabled; },
    atomvm: () => { const e = document.getElementById('pierror'); return e && /true|false/.test(e.textContent); } };
  const check = () => {
    if (window.__readyAt !== undefined) return;
    if (Object.values(ready).some((f) => f())) window.__readyAt = performance.now();
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
}

async function newPage(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const log = [];
  page.on('console', (m) => log.push(m.text()));
  page.on('pageerror', (e) => log.push(String(e)));
  return { context, page, log };
}

// Milliseconds from navigation to the page being usable, as the test
// driver sees it: from before \`goto\` until playwright notices. That adds
// the driver's own latency (new page, navigation, polling), 50 to 500 ms
// on a busy 2-core machine, which made loads look bimodal.
const READY = {
  atomvm: (p) => p.locator('#pierror').filter({ hasText: /true|false/ }).waitFor({ timeout: T }),
  call: (p) => p.locator('#call-button:enabled').waitFor({ timeout: T }),
};

(async () => {
  const browser = await launch();
  const results = { checks: [], ready: {}, inPage: {} };
  const server = await serve(lane, 'web-jit');
  const base = `http://127.0.0.1:${server.address().port}`;
  let failed = 0;
  for (const [spec, list] of Object.entries(checks)) {
    for (const [name, check] of list) {
      const { context, page, log } = await newPage(browser);
      let error = null;
      try {
        await page.goto(`${base}/tests/src/test_${spec}.html`);
        await check(page);
      } catch (e) {
        error = String(e).split('\n')[0];
      }
      await context.close();
      results.checks.push({ spec, name, ok: !error, error });
      if (error) failed++;
      console.log(`${error ? 'FAIL' : 'ok  '} ${spec}: ${name}${error ? `: ${error} | ${log.slice(-3).join(' | ')}` : ''}`);
    }
  }
  server.close();
  console.log(`${results.checks.length - failed} passed, ${failed} failed`);

  // Page readiness, loads alternating between the two builds.
  // test_call with the page's switch for the cache off.
  const noCache = fs
    .readFileSync(path.join(lane, 'src/AtomVM/src/platforms/emscripten/tests/src/test_call.html'), 'utf8')
    .replace(/AtomVM\(\{/, 'AtomVM({ atomvmWasmJitCache: false,');
  const servers = {
    'web-jit': await serve(lane, 'web-jit', { '/tests/src/test_call_no_cache.html': noCache }),
    'web-upstream': await serve(lane, 'web-upstream'),
  };
  for (const page of Object.keys(READY)) {
    for (let i = 0; i < LOADS; i++) {
      for (const [variant, srv] of Object.entries(servers)) {
        const { context, page: p } = await newPage(browser);
        await p.addInitScript(markReady);
        const t0 = Date.now();
        let ms = NaN;
        let inPage = NaN;
        try {
          await p.goto(`http://127.0.0.1:${srv.address().port}/tests/src/test_${page}.html`);
          await READY[page](p);
          ms = Date.now() - t0;
          inPage = Math.round(await p.evaluate(() => window.__readyAt));
        } catch (e) {
          console.log(`${variant} test_${page}: not ready: ${String(e).split('\n')[0]}`);
        }
        await context.close();
        ((results.ready[page] = results.ready[page] || {})[variant] = results.ready[page][variant] || []).push(ms);
        ((results.inPage[page] = results.inPage[page] || {})[variant] = results.inPage[page][variant] || []).push(inPage);
      }
    }
  }
  console.log(`time to ready in the page, ms from the navigation's start (median of ${LOADS} alternating loads): page, this library, upstream`);
  for (const [page, by] of Object.entries(results.inPage)) {
    console.log(`  test_${page}: ${median(by['web-jit'])} ${median(by['web-upstream'])}   (samples: ${JSON.stringify(by)})`);
  }
  console.log(`time to ready seen by the test driver, ms (same loads; adds the driver's latency): page, this library, upstream`);
  for (const [page, by] of Object.entries(results.ready)) {
    console.log(`  test_${page}: ${median(by['web-jit'])} ${median(by['web-upstream'])}   (samples: ${JSON.stringify(by)})`);
  }
  // The native-code cache: loads of test_call in one browser profile, whose
  // IndexedDB persists between them. The first compiles the page's modules;
  // the later ones must compile nothing; the last, with the page's switch
  // for the cache off, must compile them again.
  {
    const context = await browser.newContext();
    const loads = [];
    for (let i = 0; i < 7; i++) {
      const name = i === 6 ? 'test_call_no_cache' : 'test_call';
      const p = await context.newPage();
      const log = [];
      p.on('console', (m) => log.push(m.text()));
      const t0 = Date.now();
      let ms = NaN;
      try {
        await p.goto(`http://127.0.0.1:${servers['web-jit'].address().port}/tests/src/${name}.html`);
        await READY.call(p);
        ms = Date.now() - t0;
      } catch (e) {
        console.log(`cache: load ${i}: not ready: ${String(e).split('\n')[0]}`);
      }
      await p.waitForTimeout(1500); // the cache is saved to IndexedDB after writes
      await p.close();
      loads.push({ ms, compiled: log.filter((l) => l.includes('Compilation of')).length, refused: log.filter((l) => l.includes('cache entry refused')).length });
    }
    await context.close();
    results.cache = loads;
    const warm = loads.slice(1, 6);
    const off = loads[6];
    const ok = loads[0].compiled > 0 && warm.every((l) => l.compiled === 0 && l.refused === 0) &&
      off.compiled === loads[0].compiled;
    if (!ok) failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} cache: test_call first load ${loads[0].ms} ms, ${loads[0].compiled} compiled; ` +
      `reloads ${median(warm.map((l) => l.ms))} ms median, ${warm.map((l) => l.compiled).join('/')} compiled ` +
      `(upstream, no cache: ${median(results.ready.call['web-upstream'])} ms); ` +
      `with atomvmWasmJitCache: false, ${off.compiled} compiled`);
  }
  for (const s of Object.values(servers)) {
    s.close();
    s.closeAllConnections(); // busy keep-alive connections would keep node running
  }
  await browser.close();
  fs.writeFileSync(out, JSON.stringify(results, null, 1));
  process.exitCode = failed ? 1 : 0;
  // Something (a worker's connection, a browser pipe) may still hold node's
  // event loop after the results are out: end once stdout is flushed.
  process.stdout.write('', () => process.exit(process.exitCode));
})();
