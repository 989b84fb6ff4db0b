// The HTTP server of the lane's browser runs (web.js, web-bench.js): lays
// files out as AtomVM's wasm_webserver does for its cypress specs, and
// cross-origin isolated (a -pthread build needs SharedArrayBuffer):
// /AtomVM.* from build VARIANT, /tests/src/ AtomVM's test pages,
// /tests/build/ their modules, /build/ AtomVM's Erlang side, /bench/ the
// lane's benchmark modules; `pages` maps extra URLs to generated HTML.
// A JIT build has no interpreter, so the test pages' list of libraries is
// replaced by the one that carries the JIT compiler and precompiled estdlib
// (atomvmlib-emscripten-wasm32.avm).
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
const JIT_LIBS = "'/build/libs/atomvmlib-emscripten-wasm32.avm'";
const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cache-Control': 'no-store',
};

// A page's list of libraries after its first argument, replaced by the
// one a JIT build needs.
function jitLibraries(html) {
  return html.replace(/(arguments:\s*\[\s*['"][^'"]+['"])[^\]]*\]/, `$1, ${JIT_LIBS}]`);
}

function serve(lane, variant, pages = {}) {
  const roots = [
    ['/tests/src/', path.join(lane, 'src/AtomVM/src/platforms/emscripten/tests/src/')],
    ['/tests/build/', path.join(lane, 'build/web-tests/')],
    ['/build/', path.join(lane, 'build/erlang-wasm32/')],
    ['/bench/', path.join(lane, 'bench/')],
    ['/', path.join(lane, 'build', variant, 'src/')],
  ];
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url.split('?')[0]);
    if (Object.hasOwn(pages, url)) {
      res.writeHead(200, { 'Content-Type': 'text/html', ...HEADERS });
      res.end(jitLibraries(pages[url]));
      return;
    }
    const [prefix, dir] = roots.find(([p]) => url.startsWith(p));
    const file = path.join(dir, url.slice(prefix.length));
    if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404);
      res.end();
      return;
    }
    let body = fs.readFileSync(file);
    if (file.endsWith('.html')) body = jitLibraries(body.toString());
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', ...HEADERS });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// Headless Chromium as the lane runs it.
function launch() {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

module.exports = { serve, launch };
