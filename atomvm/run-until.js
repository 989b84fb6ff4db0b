// Runs a command and stops it once a line of its output matches PATTERN
// (AtomVM under node never exits once atomvmlib is loaded), or after
// TIMEOUT seconds. Prints the output, then `RESULT matched|timeout|exit <code>
// <seconds>`; exits 0 only if the pattern matched.
//
//   node run-until.js PATTERN TIMEOUT COMMAND ARGS...
'use strict';
const { spawn } = require('child_process');
const [pattern, timeout, cmd, ...args] = process.argv.slice(2);
const re = new RegExp(pattern);
const start = process.hrtime.bigint();
const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
let done = false;
const seconds = () => (Number(process.hrtime.bigint() - start) / 1e9).toFixed(3);
function finish(status, code) {
  if (done) return;
  done = true;
  clearTimeout(timer);
  child.kill('SIGKILL');
  console.log(`RESULT ${status} ${seconds()}`);
  process.exitCode = code;
}
let buffered = '';
function onData(chunk) {
  process.stdout.write(chunk);
  buffered += chunk.toString();
  const lines = buffered.split('\n');
  buffered = lines.pop();
  if (lines.some((l) => re.test(l))) finish('matched', 0);
}
child.stdout.on('data', onData);
child.stderr.on('data', onData);
child.on('exit', (code) => {
  if (buffered && re.test(buffered)) finish('matched', 0);
  else finish(`exit ${code}`, 1);
});
const timer = setTimeout(() => finish('timeout', 1), Number(timeout) * 1000);
