// The AtomVM lane's benchmark: runs the Erlang benchmark set
// (atomvm/bench/atomvm_wasm_jit_bench.erl) on every variant, interleaved
// over ROUNDS rounds (round 1: every variant once, then round 2, ...), and
// prints a table of per-case medians with ratios, and writes the samples to
// a JSON file.
//
//   node bench.js VARIANTS.json ROUNDS OUT.json
//
// VARIANTS.json: [{name, cwd, cmd: [...]}]; each command runs the whole set
// and prints `BENCH <case> <microseconds> ok|bad` lines, then `BENCH done`.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const median = require('./median');

const [variantsFile, roundsArg, out] = process.argv.slice(2);
const variants = JSON.parse(fs.readFileSync(variantsFile, 'utf8'));
const rounds = Number(roundsArg);
const samples = {}; // variant -> case -> [ms]
const failures = [];

function runOnce(v) {
  const r = spawnSync(process.execPath, [__dirname + '/run-until.js', '^BENCH done', '600', ...v.cmd], {
    cwd: v.cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const text = (r.stdout || '') + (r.stderr || '');
  if (!/^BENCH done/m.test(text)) {
    failures.push(`${v.name}: no "BENCH done" (${text.split('\n').slice(-5).join(' | ')})`);
    return;
  }
  for (const m of text.matchAll(/^BENCH (\w+) (\d+) (\w+)$/gm)) {
    const [, c, us, status] = m;
    if (status !== 'ok') failures.push(`${v.name}: case ${c} gave a wrong result`);
    ((samples[v.name] = samples[v.name] || {})[c] = samples[v.name][c] || []).push(Number(us) / 1000);
  }
}

for (let round = 1; round <= rounds; round++) {
  for (const v of variants) {
    process.stderr.write(`round ${round}/${rounds}: ${v.name}\n`);
    runOnce(v);
  }
}

const names = variants.map((v) => v.name);
const cases = [...new Set(names.flatMap((n) => Object.keys(samples[n] || {})))];
const med = {};
for (const n of names) {
  med[n] = {};
  for (const c of cases) med[n][c] = median((samples[n] || {})[c] || []);
  med[n].total = cases.reduce((a, c) => a + med[n][c], 0);
}

// Ratios: this library against each other variant (>1: this library faster).
const ours = 'wasm-jit';
const ratioOf = (other, c) => med[other][c] / med[ours][c];
const col = (s, w) => String(s).padStart(w);
const fmt = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const others = names.filter((n) => n !== ours);
let table = `median ms over ${rounds} interleaved rounds (lower is better); ratio = other / ${ours} (>1: ${ours} faster)\n`;
// Each column as wide as its name and one space, at least 14 (19 for ratios).
const w = (n) => Math.max(14, n.length + 1);
const rw = (n) => Math.max(19, n.length + 4);
table += col('case', 9) + names.map((n) => col(n, w(n))).join('') + others.map((n) => col('vs ' + n, rw(n))).join('') + '\n';
for (const c of [...cases, 'total']) {
  table += col(c, 9) + names.map((n) => col(fmt(med[n][c]), w(n))).join('');
  table += others.map((n) => col(ratioOf(n, c).toFixed(2) + 'x', rw(n))).join('') + '\n';
}
process.stdout.write(table);
for (const f of failures) process.stdout.write(`FAILURE ${f}\n`);
fs.writeFileSync(out, JSON.stringify({ rounds, variants, samples, medians: med, failures }, null, 1));
process.exitCode = failures.length ? 1 : 0;
