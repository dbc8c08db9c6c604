// Hashing a local file once: sha256, md5, and the md5 of each part at a given part size.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { tap } from '../streams.js';
import { combineCrc64, Crc64, crc64 } from './crc64.js';
import type { LocalFile } from './types.js';

/**
 * One pass over a file: sha256 always; md5 when it goes up in one request (Content-MD5, ETag);
 * part md5s only when asked (comparing a multipart ETag without uploading); CRC-64s for OSS;
 * a full-object CRC-64/NVME for AWS S3.
 */
export async function describeFile(
  path: string,
  key: string,
  size: number,
  partSize: number,
  opts: { crc64?: boolean; crc64nvme?: boolean; partMd5s?: boolean } = {},
): Promise<LocalFile> {
  const sha = createHash('sha256');
  const single = size <= partSize;
  const wantParts = !single && (opts.partMd5s ?? false);
  const md5 = createHash('md5');
  const partMd5s: string[] = [];
  const nvme = opts.crc64nvme ? new Crc64('nvme') : undefined;
  const partCrcs: string[] = [];
  let partCrc = opts.crc64 ? new Crc64() : undefined;
  let part = createHash('md5');
  let inPart = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    let buf = chunk as Buffer;
    sha.update(buf);
    if (single) md5.update(buf);
    nvme?.update(buf);
    if (!wantParts && !partCrc) continue;
    while (buf.length) {
      const take = Math.min(buf.length, partSize - inPart);
      if (wantParts) part.update(buf.subarray(0, take));
      partCrc?.update(buf.subarray(0, take));
      inPart += take;
      buf = buf.subarray(take);
      if (inPart === partSize) {
        if (wantParts) partMd5s.push(part.digest('hex'));
        if (partCrc) partCrcs.push(partCrc.digest());
        part = createHash('md5');
        partCrc = opts.crc64 ? new Crc64() : undefined;
        inPart = 0;
      }
    }
  }
  if (inPart > 0 || (single && partMd5s.length === 0)) {
    if (wantParts || single) partMd5s.push(single ? '' : part.digest('hex'));
    if (partCrc) partCrcs.push(partCrc.digest());
  }
  const md5hex = single ? md5.digest('hex') : undefined;
  if (single) partMd5s[0] = md5hex!;
  // the whole file's CRC from its parts' (one CRC pass over the file, not two)
  const crc = opts.crc64 ? partCrcs.reduce((whole, c, i) => combineCrc64(whole, c, Math.min(partSize, size - i * partSize)), crc64(Buffer.alloc(0))) : undefined;
  return {
    path,
    key,
    size,
    sha256: sha.digest('hex'),
    md5: md5hex,
    partMd5s: wantParts || single ? partMd5s : undefined,
    partSize,
    ...(crc !== undefined ? { crc64: crc, partCrc64s: partCrcs } : {}),
    ...(nvme ? { crc64nvme: nvme.digestBase64() } : {}),
  };
}

/** The ETag S3 gives a multipart upload: md5 of the parts' binary md5s, dash, part count. */
export function multipartEtag(partMd5s: string[]): string {
  const h = createHash('md5');
  for (const p of partMd5s) h.update(Buffer.from(p, 'hex'));
  return `${h.digest('hex')}-${partMd5s.length}`;
}

/**
 * Counts bytes as a consumer reads them. (A 'data' listener would start the flow before the
 * consumer, e.g. an SDK that pipes the body later, is attached, and bytes would be lost.)
 */
export function counted(src: Readable, onBytes?: (n: number) => void, onChunk?: (chunk: Buffer) => void): Readable {
  if (!onBytes && !onChunk) return src;
  const t = tap((chunk) => {
    onChunk?.(chunk);
    onBytes?.(chunk.length);
  });
  src.on('error', (err) => t.destroy(err));
  return src.pipe(t);
}
