// Checkpoints survive a fresh runner through the Actions cache: restored before an upload (from
// an earlier attempt of the same workflow run: "Re-run failed jobs" continues the multipart
// uploads), saved by the post step when unfinished uploads are left. Only under a runner with
// the cache service; everywhere else the state directory alone does the job.
import { createHash } from 'node:crypto';
import { errorMessage } from '../errors.js';
import { info, runnerCore, warning } from '../log.js';
import { listCheckpoints } from './checkpoint.js';

function keys(destination: string, env: NodeJS.ProcessEnv): { key: string; prefix: string } | undefined {
  if (!env.GITHUB_RUN_ID) return undefined;
  // the job (and matrix leg, through the destination and job name) keeps parallel jobs apart
  const h = createHash('sha256')
    .update(`${env.GITHUB_JOB ?? ''}\n${destination}`)
    .digest('hex')
    .slice(0, 16);
  const prefix = `airlift-upload-${h}-${env.GITHUB_RUN_ID}-`;
  return { key: `${prefix}${env.GITHUB_RUN_ATTEMPT ?? '1'}`, prefix };
}

async function cacheService(): Promise<typeof import('@actions/cache') | undefined> {
  if (!runnerCore()) return undefined;
  const cache = await import('@actions/cache');
  return cache.isFeatureAvailable() ? cache : undefined;
}

/** Restores checkpoints an earlier attempt of this run saved; returns the key it found. */
export async function restoreCheckpoints(stateDir: string, destination: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const k = keys(destination, env);
  const cache = k && (await cacheService());
  if (!k || !cache) return undefined;
  // checkpoints already here (a persistent state directory) are newer than any cached ones
  if ((await listCheckpoints(stateDir)).length) return undefined;
  try {
    const hit = await cache.restoreCache([stateDir], k.key, [k.prefix]);
    if (hit) info(`upload-oss: restored upload checkpoints from the Actions cache (${hit})`);
    return hit;
  } catch (err) {
    warning(`upload-oss: could not restore checkpoints from the Actions cache (${errorMessage(err)}); uploads start from the beginning`);
    return undefined;
  }
}

/** Saves the state directory when unfinished uploads are recorded in it. */
export async function saveCheckpoints(stateDir: string, destination: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const left = await listCheckpoints(stateDir);
  const k = keys(destination, env);
  const cache = left.length && k ? await cacheService() : undefined;
  if (!k || !cache) return false;
  try {
    const id = await cache.saveCache([stateDir], k.key);
    if (id === -1) {
      warning(`upload-oss: the Actions cache did not take the checkpoints (${k.key}); a re-run starts those uploads over`);
      return false;
    }
    info(`upload-oss: ${left.length} unfinished upload(s) saved to the Actions cache (${k.key}); re-running the job continues them`);
    return true;
  } catch (err) {
    warning(`upload-oss: could not save checkpoints to the Actions cache (${errorMessage(err)})`);
    return false;
  }
}
