// A disk image as EC2 takes it: its format told from its magic bytes (not its name), checked
// against the declared one; raw images a whole number of 512-byte sectors; qcow2 (which VM
// Import does not read) converted to raw with qemu-img into a temporary file.
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { exec, packageFor } from '../exec.js';

export type DiskFormat = 'raw' | 'qcow2' | 'vmdk' | 'vhd' | 'vhdx';

async function readAt(path: string, position: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(length);
    const { bytesRead } = await fh.read(b, 0, length, position);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The format a disk image's bytes say it is (raw when none of the others). */
export async function detectDiskFormat(path: string): Promise<DiskFormat> {
  const head = await readAt(path, 0, 512);
  if (head.subarray(0, 4).equals(Buffer.from([0x51, 0x46, 0x49, 0xfb]))) return 'qcow2'; // "QFI\xfb"
  if (head.subarray(0, 4).toString('latin1') === 'KDMV' || head.subarray(0, 21).toString('latin1') === '# Disk DescriptorFile') return 'vmdk';
  if (head.subarray(0, 8).toString('latin1') === 'vhdxfile') return 'vhdx';
  // a fixed VHD has its footer in the last 512 bytes, a dynamic one a copy at the start too
  if (head.subarray(0, 8).toString('latin1') === 'conectix') return 'vhd';
  const { size } = await stat(path);
  if (size >= 512 && (await readAt(path, size - 512, 8)).toString('latin1') === 'conectix') return 'vhd';
  return 'raw';
}

export interface CheckedDisk {
  path: string;
  format: DiskFormat;
  size: number;
}

/** Pre-flight: the image exists, is not empty, is what `declared` says, and (raw) whole sectors. */
export async function checkDisk(path: string, declared: 'auto' | DiskFormat): Promise<CheckedDisk> {
  const st = await stat(path).catch(() => undefined);
  if (!st) throw new UserError(`${path} was not found`);
  if (!st.isFile()) throw new UserError(`${path} is not a file`);
  if (st.size === 0) throw new UserError(`${path} is empty`);
  const found = await detectDiskFormat(path);
  const same = declared === 'auto' || declared === found || (declared === 'vhd' && found === 'vhdx');
  if (!same) throw new UserError(`${path} is ${found === 'raw' ? 'a raw image (no known header)' : `a ${found} image`}, not ${declared}; set disk-format to ${found} or auto`);
  if (found === 'raw' && st.size % 512 !== 0)
    throw new UserError(
      `${path} is a raw image of ${st.size} bytes, not a whole number of 512-byte sectors (${st.size % 512} bytes over); EC2 refuses it: pad it (truncate -s %512) or check that it is whole`,
    );
  return { path, format: found, size: st.size };
}

/** qcow2 → raw with `qemu-img convert`, into `dir`; returns the raw file. */
export async function convertToRaw(disk: CheckedDisk, dir: string): Promise<CheckedDisk> {
  const out = join(dir, 'disk.raw');
  try {
    // qemu-img calls VHD "vpc"
    await exec('qemu-img', ['convert', '-f', disk.format === 'vhd' ? 'vpc' : disk.format, '-O', 'raw', disk.path, out], { stream: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UserError(
        `${disk.path} is ${disk.format}, which is converted to raw with qemu-img, and qemu-img was not found (apt-get install ${packageFor('qemu-img') ?? 'qemu-utils'})`,
      );
    throw new UserError(`qemu-img could not convert ${disk.path} to raw: ${(err as Error).message.split('\n').slice(-3).join(' ')}`);
  }
  return { path: out, format: 'raw', size: (await stat(out)).size };
}
