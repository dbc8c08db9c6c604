// Writes the sample product's program, `hello`, for linux/amd64 and linux/arm64: a complete
// static ELF executable assembled by hand (no toolchain, no base image), which prints one line
// and exits 0. The Dockerfile copies the one of the platform being built into FROM scratch.
//   node examples/product/bin/assemble.mjs            writes bin/linux-{amd64,arm64}/hello
//   node examples/product/bin/assemble.mjs --check    fails if the committed files differ
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MESSAGE = 'hello from the Airlift sample product\n';
const BASE = 0x400000;
const HEADERS = 64 + 56;

function u32(...words) {
  const b = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => b.writeUInt32LE(w >>> 0, i * 4));
  return b;
}

/** x86-64: write(1, msg, len); exit(0) */
function amd64(msg) {
  const code = Buffer.from([
    0xb8, 1, 0, 0, 0, // mov eax, 1 (write)
    0xbf, 1, 0, 0, 0, // mov edi, 1 (stdout)
    0x48, 0x8d, 0x35, 16, 0, 0, 0, // lea rsi, [rip+16] (the message, after the code)
    0xba, msg.length, 0, 0, 0, // mov edx, len
    0x0f, 0x05, // syscall
    0xb8, 60, 0, 0, 0, // mov eax, 60 (exit)
    0x31, 0xff, // xor edi, edi
    0x0f, 0x05, // syscall
  ]);
  return { machine: 0x3e, code };
}

/** arm64: write(1, msg, len); exit(0) */
function arm64(msg) {
  const code = u32(
    0xd2800020, // movz x0, #1
    0x10000000 | (7 << 5) | 1, // adr x1, .+28 (the message, after the 8 instructions)
    0xd2800000 | (msg.length << 5) | 2, // movz x2, #len
    0xd2800808, // movz x8, #64 (write)
    0xd4000001, // svc #0
    0xd2800000, // movz x0, #0
    0xd2800ba8, // movz x8, #93 (exit)
    0xd4000001, // svc #0
  );
  return { machine: 0xb7, code };
}

/** ELF64 little-endian executable: the header, one PT_LOAD (R+X) of the whole file, code, message. */
export function elf(arch, message = MESSAGE) {
  const msg = Buffer.from(message);
  const { machine, code } = arch === 'amd64' ? amd64(msg) : arm64(msg);
  const size = HEADERS + code.length + msg.length;
  const h = Buffer.alloc(HEADERS);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(h, 0);
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(machine, 18);
  h.writeUInt32LE(1, 20); // EV_CURRENT
  h.writeBigUInt64LE(BigInt(BASE + HEADERS), 24); // entry
  h.writeBigUInt64LE(64n, 32); // program headers
  h.writeUInt16LE(64, 52);
  h.writeUInt16LE(56, 54);
  h.writeUInt16LE(1, 56);
  h.writeUInt32LE(1, 64); // PT_LOAD
  h.writeUInt32LE(5, 68); // R + X
  h.writeBigUInt64LE(BigInt(BASE), 80);
  h.writeBigUInt64LE(BigInt(BASE), 88);
  h.writeBigUInt64LE(BigInt(size), 96);
  h.writeBigUInt64LE(BigInt(size), 104);
  h.writeBigUInt64LE(0x1000n, 112);
  return Buffer.concat([h, code, msg]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const here = dirname(fileURLToPath(import.meta.url));
  let stale = 0;
  for (const arch of ['amd64', 'arm64']) {
    const file = join(here, `linux-${arch}`, 'hello');
    const want = elf(arch);
    if (process.argv.includes('--check')) {
      let have;
      try {
        have = readFileSync(file);
      } catch {
        have = Buffer.alloc(0);
      }
      if (!have.equals(want)) {
        stale++;
        console.error(`${file} differs from what assemble.mjs writes: run node ${join('examples', 'product', 'bin', 'assemble.mjs')}`);
      }
    } else {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, want, { mode: 0o755 });
      console.log(`${file}: ${want.length} bytes`);
    }
  }
  process.exitCode = stale ? 1 : 0;
}
