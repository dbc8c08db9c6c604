// One multipart upload routine for every store that has them (S3, OSS): the plan (a checkpointed
// upload resumed, or a new one), the parts still to send, `partConcurrency` at a time, each
// retried and recorded as it lands, the completion, and what a failure leaves behind (nothing
// without resume; the checkpoint and the store's upload with it). The backend supplies only its
// calls; each call checks what the store answers (a part's ETag or CRC) and throws when it is not
// what was sent.
import { mapLimit } from '../concurrency.js';
import { debug, info } from '../log.js';
import { retry } from '../retry.js';
import { dropIfStale, planMultipart } from './checkpoint.js';
import type { LocalFile, UploadOptions } from './types.js';

export interface MultipartCalls<Done> {
  /** `s3`, `oss`: part of the checkpoint's identity (with the URL, the file's sha256 and the part size) */
  store: string;
  url: string;
  /** starts an upload; its ID */
  create(): Promise<string>;
  abort(uploadId: string): Promise<void>;
  /** sends part `n` (bytes [start, end) of the file), checked against what the store reports; the part's ETag */
  uploadPart(uploadId: string, n: number, start: number, end: number): Promise<string>;
  /** completes the upload from the parts' ETags (1-based order), including the case of an answer lost on the way back */
  complete(uploadId: string, etags: string[]): Promise<Done>;
  /** the store says the upload does not exist (expired, or aborted elsewhere) */
  isGone(err: unknown): boolean;
  retryable(err: unknown): boolean;
}

/** Sends a file in parts; the number of parts sent by this run, and what complete() returned. */
export async function uploadMultipart<Done>(
  file: LocalFile,
  opts: UploadOptions,
  calls: MultipartCalls<Done>,
  fresh = false,
): Promise<{ sent: number; done: Done; etags: string[] }> {
  const retrying = { isRetryable: (e: unknown) => calls.retryable(e) };
  const plan = await planMultipart({
    stateDir: opts.stateDir,
    identity: `${calls.store}\n${calls.url}\n${file.sha256}\n${file.partSize}`,
    url: calls.url,
    size: file.size,
    partSize: file.partSize,
    resume: opts.resume && !fresh,
    create: () => retry(() => calls.create(), retrying),
    log: debug,
    abort: (id) => calls.abort(id),
  });
  const { cp, state: st, todo, count, range } = plan;
  let sent = 0;
  let done: Done;
  let etags: string[];
  try {
    // once a part has failed for good, the others stop retrying
    await mapLimit(todo, opts.partConcurrency, async (n, _i, failed) => {
      const [start, end] = range(n);
      st.parts[n] = await retry(() => calls.uploadPart(st.uploadId, n, start, end), { ...retrying, signal: failed });
      sent++;
      await cp.save(st);
    });
    etags = Array.from({ length: count }, (_, i) => st.parts[i + 1]);
    done = await retry(() => calls.complete(st.uploadId, etags), retrying);
  } catch (err) {
    if (await dropIfStale(plan, sent, calls.isGone(err), info)) return uploadMultipart(file, opts, calls, true);
    if (!opts.resume) {
      await calls.abort(st.uploadId).catch((e: Error) => debug(`abort failed: ${e.message}`));
      await cp.remove();
    }
    throw err;
  }
  // the upload is complete: its checkpoint is spent, whatever a later check finds
  await cp.remove();
  return { sent, done, etags };
}
