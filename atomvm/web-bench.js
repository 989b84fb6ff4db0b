// The lane's Erlang benchmark set in headless Chromium, on AtomVM's web
// build with this library and with upstream's runtime, interleaved over
// ROUNDS rounds (each run in a fresh browser context: a cold page, as a
// user gets it; every case warms up before it is timed). Prints the
// per-case medians beside node's, read from the bench stage's JSON, and
// writes the samples.
//
//   NODE_PATH=tests/browser/node_modules node web-bench.js LANE ROUNDS NODE_BENCH.json OUT.json
'use strict';
const fs = require('fs');
const { serve, launch } = require('./web-server');
const median = require('./median');

const [lane, roundsArg, nodeBench, out] = process.argv.slice(2);
const rounds = Number(roundsArg);
const VARIANTS = { 'chromium-jit': 'web-jit', 'chromium-upstream': 'web-upstream' };
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8" /></head><body><pre id="out"></pre>
<script type="module">
  import AtomVM from "/AtomVM.mjs";
  window.Module = await AtomVM({
    arguments: ["/bench/atomvm_wasm_jit_bench.beam", "/build/libs/atomvmlib-emscripten-wasm32.avm"],
  });
</script></body></html>`;


// One run of the whole set on one page: the BENCH lines AtomVM prints
// (from its worker threads too, which Chromium reports as the page's
// console).
async function runOnce(browser, port) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const lines = [];
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  page.on('console', (m) => {
    const t = m.text();
    lines.push(t);
    if (/^BENCH done/m.test(t)) done();
  });
  page.on('pageerror', (e) => lines.push(String(e)));
  await page.goto(`http://127.0.0.1:${port}/bench.html`);
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 600000));
  const how = await Promise.race([finished, timeout]);
  await context.close();
  const text = lines.join('\n');
  if (how === 'timeout') return { error: `no "BENCH done" (${lines.slice(-3).join(' | ')})` };
  const cases = {};
  for (const m of text.matchAll(/^BENCH (\w+) (\d+) (\w+)$/gm)) cases[m[1]] = { ms: Number(m[2]) / 1000, ok: m[3] === 'ok' };
  return { cases };
}

(async () => {
  const browser = await launch();
  const servers = {};
  for (const [name, build] of Object.entries(VARIANTS)) servers[name] = await serve(lane, build, { '/bench.html': PAGE });
  const samples = {};
  const failures = [];
  for (let round = 1; round <= rounds; round++) {
    for (const [name, server] of Object.entries(servers)) {
      process.stderr.write(`browser round ${round}/${rounds}: ${name}\n`);
      const r = await runOnce(browser, server.address().port);
      if (r.error) {
        failures.push(`${name}: ${r.error}`);
        continue;
      }
      for (const [c, { ms, ok }] of Object.entries(r.cases)) {
        if (!ok) failures.push(`${name}: case ${c} gave a wrong result`);
        ((samples[name] = samples[name] || {})[c] = samples[name][c] || []).push(ms);
      }
    }
  }
  // close() leaves busy keep-alive connections open (a worker's), which
  // would keep node running after the results are out.
  for (const s of Object.values(servers)) {
    s.close();
    s.closeAllConnections();
  }
  await browser.close();

  // Node's medians from the bench stage, when it ran.
  const node = fs.existsSync(nodeBench) ? JSON.parse(fs.readFileSync(nodeBench, 'utf8')).medians : {};
  const med = {};
  for (const [name, by] of Object.entries(samples)) {
    med[name] = {};
    for (const [c, xs] of Object.entries(by)) med[name][c] = median(xs);
  }
  const cases = Object.keys(med['chromium-jit'] || {});
  for (const m of Object.values(med)) m.total = cases.reduce((a, c) => a + m[c], 0);
  const cols = [
    ['node jit', node['wasm-jit']],
    ['chromium jit', med['chromium-jit']],
    ['node upstream', node['wasm-upstream']],
    ['chromium upstream', med['chromium-upstream']],
    ['native-jit', node['native-jit']],
  ];
  const col = (s, w) => String(s).padStart(w);
  const fmt = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
  const ratio = (a, b) => (Number.isFinite(a / b) ? (a / b).toFixed(2) + 'x' : '-');
  let table = `median ms, Chromium over ${rounds} interleaved rounds, node from the bench stage (lower is better)\n`;
  table += col('case', 9) + cols.map(([n]) => col(n, 18)).join('') + col('chromium vs upstream', 22) + col('chromium vs native-jit', 24) + '\n';
  for (const c of [...cases, 'total']) {
    const jit = (med['chromium-jit'] || {})[c];
    table += col(c, 9) + cols.map(([, m]) => col(fmt((m || {})[c]), 18)).join('');
    table += col(ratio((med['chromium-upstream'] || {})[c], jit), 22) + col(ratio((node['native-jit'] || {})[c], jit), 24) + '\n';
  }
  process.stdout.write(table);
  for (const f of failures) process.stdout.write(`FAILURE ${f}\n`);
  fs.writeFileSync(out, JSON.stringify({ rounds, samples, medians: med, node, failures }, null, 1));
  process.exitCode = failures.length || cases.length === 0 ? 1 : 0;

  // Something (a worker's connection, a browser pipe) may still hold node's
  // event loop after the results are out: end once stdout is flushed.
  process.stdout.write('', () => process.exit(process.exitCode));
})();
