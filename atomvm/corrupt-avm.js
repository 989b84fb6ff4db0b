// Copies an AtomVM .avm archive, damaging the WebAssembly module inside the
// JIT stream of one precompiled module (its first section id becomes 0x0E,
// which no WebAssembly section has), for the lane's corrupted-stream case.
//
//   node corrupt-avm.js IN.avm io.beam OUT.avm
//
// An .avm entry is a big-endian u32 size, u32 flags, u32 0, the NUL-ended
// name padded to 4 bytes, then the BEAM file; the stream is in the BEAM's
// native-code chunk, and its module starts with \0asm, version 1.
'use strict';
const fs = require('fs');
const [input, name, output] = process.argv.slice(2);
const avm = fs.readFileSync(input);
const nameAt = avm.indexOf(Buffer.from(name + '\0'));
if (nameAt < 12) throw new Error(`no entry ${name} in ${input}`);
const entryStart = nameAt - 12;
const entryEnd = entryStart + avm.readUInt32BE(entryStart);
const wasmAt = avm.indexOf(Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), nameAt);
if (wasmAt < 0 || wasmAt >= entryEnd) throw new Error(`${name} has no JIT stream in ${input}`);
avm[wasmAt + 8] = 0x0e;
fs.writeFileSync(output, avm);
console.log(`${output}: ${name}'s module damaged at archive offset ${wasmAt + 8}`);
