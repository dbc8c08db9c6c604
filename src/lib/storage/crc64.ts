// CRC-64/ECMA-182 as OSS computes it (x-oss-hash-crc64ecma): the reflected ECMA polynomial,
// initial value and final xor all ones (the CRC-64/XZ parameters); and CRC-64/NVME, the same
// construction with the NVMe polynomial, which S3 keeps as every new object's full-object
// checksum. Table-driven on two 32-bit halves: hundreds of MB/s without BigInt in the loop.
function tables(polyHi: number, polyLo: number): [Uint32Array, Uint32Array] {
  const T_HI = new Uint32Array(256);
  const T_LO = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let hi = 0;
    let lo = i;
    for (let k = 0; k < 8; k++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (carry) {
        hi = (hi ^ polyHi) >>> 0;
        lo = (lo ^ polyLo) >>> 0;
      }
    }
    T_HI[i] = hi;
    T_LO[i] = lo;
  }
  return [T_HI, T_LO];
}

/** ecma: CRC-64/XZ (OSS's crc64ecma); nvme: CRC-64/NVME (S3's default full-object checksum). */
const TABLES = { ecma: tables(0xc96c5795, 0xd7870f42), nvme: tables(0x9a6c9329, 0xac4bc9b5) };

export class Crc64 {
  private hi = 0xffffffff;
  private lo = 0xffffffff;
  private readonly tHi: Uint32Array;
  private readonly tLo: Uint32Array;
  constructor(variant: keyof typeof TABLES = 'ecma') {
    [this.tHi, this.tLo] = TABLES[variant];
  }
  update(buf: Uint8Array): this {
    const T_HI = this.tHi;
    const T_LO = this.tLo;
    let hi = this.hi;
    let lo = this.lo;
    for (let i = 0; i < buf.length; i++) {
      const idx = (lo ^ buf[i]) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ T_LO[idx];
      hi = (hi >>> 8) ^ T_HI[idx];
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
    return this;
  }
  /** The CRC as S3 prints it: 8 bytes big-endian, base64. */
  digestBase64(): string {
    const b = Buffer.alloc(8);
    b.writeUInt32BE((this.hi ^ 0xffffffff) >>> 0, 0);
    b.writeUInt32BE((this.lo ^ 0xffffffff) >>> 0, 4);
    return b.toString('base64');
  }
  /** The CRC as OSS prints it: an unsigned 64-bit decimal string. */
  digest(): string {
    return ((BigInt((this.hi ^ 0xffffffff) >>> 0) << 32n) | BigInt((this.lo ^ 0xffffffff) >>> 0)).toString();
  }
}

export function crc64(buf: Uint8Array): string {
  return new Crc64().update(buf).digest();
}

const POLY = { ecma: 0xc96c5795d7870f42n, nvme: 0x9a6c9329ac4bc9b5n };
/** per variant: the GF(2) operators that run a CRC through 2^k zero bytes, k = 0, 1, … */
const SHIFTS: Record<keyof typeof POLY, bigint[][]> = { ecma: [], nvme: [] };

function times(mat: bigint[], vec: bigint): bigint {
  let sum = 0n;
  for (let i = 0; vec; i++, vec >>= 1n) if (vec & 1n) sum ^= mat[i];
  return sum;
}

function square(mat: bigint[]): bigint[] {
  return mat.map((row) => times(mat, row));
}

function shiftOperator(variant: keyof typeof POLY, k: number): bigint[] {
  const ops = SHIFTS[variant];
  if (ops.length === 0) {
    // one zero bit: the reflected register shifts right, the polynomial folds in the low bit
    let op = [POLY[variant], ...Array.from({ length: 63 }, (_, n) => 1n << BigInt(n))];
    for (let bits = 1; bits < 8; bits *= 2) op = square(op);
    ops.push(op);
  }
  while (ops.length <= k) ops.push(square(ops[ops.length - 1]));
  return ops[k];
}

/**
 * The CRC of A followed by B from the CRCs of A and B and B's length (zlib's crc32_combine, for
 * these 64-bit CRCs): the whole file's CRC from its parts' without reading the file twice.
 */
export function combineCrc64(crcA: string, crcB: string, lengthB: number, variant: keyof typeof POLY = 'ecma'): string {
  let crc = BigInt(crcA);
  for (let k = 0, n = lengthB; n > 0; k++, n = Math.floor(n / 2)) if (n % 2) crc = times(shiftOperator(variant, k), crc);
  return (crc ^ BigInt(crcB)).toString();
}
