// Hand-assembled static Linux/arm64 programs, for QEMU tests without an arm64 toolchain.
/**
 * A complete static Linux/arm64 program, assembled by hand: `exit(status)`. ELF header, one
 * PT_LOAD program header, then three instructions: movz x0,#status; movz x8,#93 (exit); svc #0.
 */
export function arm64Exit(status: number): Buffer {
  const code = Buffer.alloc(12);
  code.writeUInt32LE((0xd2800000 | ((status & 0xffff) << 5)) >>> 0, 0); // movz x0, #status
  code.writeUInt32LE(0xd2800ba8, 4); // movz x8, #93
  code.writeUInt32LE(0xd4000001, 8); // svc #0
  const size = 64 + 56 + code.length;
  const h = Buffer.alloc(64 + 56);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(h, 0); // ELF, 64-bit, little endian, v1, SysV
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(0xb7, 18); // EM_AARCH64
  h.writeUInt32LE(1, 20); // EV_CURRENT
  h.writeBigUInt64LE(0x400000n + 120n, 24); // entry: right after the headers
  h.writeBigUInt64LE(64n, 32); // program headers at 64
  h.writeUInt16LE(64, 52); // header size
  h.writeUInt16LE(56, 54); // program header size
  h.writeUInt16LE(1, 56); // one program header
  h.writeUInt32LE(1, 64); // PT_LOAD
  h.writeUInt32LE(5, 68); // R + X
  h.writeBigUInt64LE(0n, 72); // from file offset 0
  h.writeBigUInt64LE(0x400000n, 80); // vaddr
  h.writeBigUInt64LE(0x400000n, 88); // paddr
  h.writeBigUInt64LE(BigInt(size), 96); // filesz
  h.writeBigUInt64LE(BigInt(size), 104); // memsz
  h.writeBigUInt64LE(0x1000n, 112); // align
  return Buffer.concat([h, code]);
}
