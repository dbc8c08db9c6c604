// One interface for every upload destination: oss://, s3://, http(s)://, file://.
import type { Readable } from 'node:stream';
import { UserError } from '../errors.js';

/**
 * What the store holds under the object's key is not the file (damaged on the way in, or a
 * store that got it wrong). The uploader removes it and sends the file again; an object that
 * failed verification never stays under its name.
 */
export class VerificationError extends UserError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VerificationError';
  }
}

/** What we know of a local file before uploading it (one read pass). */
export interface LocalFile {
  path: string;
  /** object key relative to the destination prefix */
  key: string;
  size: number;
  sha256: string;
  /** md5 of the whole file, when it goes up in one request */
  md5?: string;
  /** md5 of each part, when computed up front (skip-unchanged on multipart objects) */
  partMd5s?: string[];
  partSize: number;
  /** CRC-64/ECMA of the file and of each part (OSS destinations) */
  crc64?: string;
  partCrc64s?: string[];
  /** CRC-64/NVME of the whole file, base64 (S3's full-object checksum) */
  crc64nvme?: string;
}

export interface RemoteObject {
  size: number;
  etag?: string;
  sha256?: string;
  crc64?: string;
  /** S3's full-object CRC-64/NVME (base64), when the store reports one */
  crc64nvme?: string;
}

export interface UploadOptions {
  contentType: string;
  cacheControl?: string;
  acl?: string;
  partConcurrency: number;
  /** check the stored object after upload (HEAD: size, ETag, sha256) */
  verify: boolean;
  resume: boolean;
  stateDir: string;
  onBytes?: (n: number) => void;
  open: (start?: number, end?: number) => Readable;
}

export interface UploadResult {
  url: string;
  /** how the upload was verified, for the summary */
  verified: string;
  /** parts sent in this run (resume sends only the missing ones) */
  partsSent: number;
}

export interface Storage {
  /** the destination as the user wrote it (no credentials) */
  readonly base: string;
  /** the files need CRC-64s (OSS checks uploads by CRC-64) */
  readonly wantsCrc64?: boolean;
  /** the files need a full-object CRC-64/NVME (AWS S3 reports one for every new object) */
  readonly wantsCrc64nvme?: boolean;
  /** multipart limits: at most maxParts parts, each (but the last) at least minPartSize bytes */
  readonly limits?: { maxParts: number; minPartSize?: number };
  url(key: string): string;
  /** The URL as printed and recorded, when it differs from url() (no credentials or signature) */
  shown?(key: string): string;
  /** a cheap request that fails clearly on wrong credentials or a missing bucket */
  check?(): Promise<void>;
  head(key: string): Promise<RemoteObject | undefined>;
  upload(file: LocalFile, opts: UploadOptions): Promise<UploadResult>;
  /** removes an object (one that failed verification); resolves when it is gone or was never there */
  remove?(key: string): Promise<void>;
  /** aborts a multipart upload a checkpoint recorded (the post step of a failed or cancelled run) */
  abortRecorded?(url: string, uploadId: string): Promise<void>;
}
