// The release check: `git describe --tags --always --dirty` must print exactly the tag, so an
// image is never built from a commit other than the tagged one, or from a modified tree.
import { UserError } from '../errors.js';
import { exec } from '../exec.js';

async function git(dir: string, args: string[]) {
  return exec('git', ['-C', dir, ...args], { stream: false, allowFailure: true });
}

/** Resolves when HEAD is exactly `tag` with a clean tree; otherwise says why, with both values. */
export async function verifyDescribe(dir: string, tag: string): Promise<string> {
  const r = await git(dir, ['describe', '--tags', '--always', '--dirty']);
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`;
    if (/not a git repository/i.test(r.stderr))
      throw new UserError(`verify-describe: ${dir} is not in a git repository (set verify-describe: false to build without the tag check)`);
    if (/dubious ownership/i.test(r.stderr))
      throw new UserError(`verify-describe: git refuses ${dir} (dubious ownership); run \`git config --global --add safe.directory ${dir}\` first`);
    throw new UserError(`verify-describe: git describe failed in ${dir}: ${why}`);
  }
  const described = r.stdout.trim();
  if (described === tag) return described;
  if (described === `${tag}-dirty`) {
    const st = await git(dir, ['status', '--porcelain', '--untracked-files=no']);
    const files = st.stdout.split('\n').filter(Boolean);
    throw new UserError(
      `verify-describe: git describe says "${described}", the tag is "${tag}": the working tree has uncommitted changes${
        files.length
          ? ` (${files
              .slice(0, 5)
              .map((f) => f.trim())
              .join(', ')}${files.length > 5 ? `, and ${files.length - 5} more` : ''})`
          : ''
      }; release images are built from a clean checkout`,
    );
  }
  let hint = 'HEAD is not the tagged commit: check out the tag';
  if (/^[0-9a-f]{7,40}(-dirty)?$/.test(described))
    hint = 'no tag is reachable from HEAD: fetch the tags (actions/checkout with fetch-depth: 0 or fetch-tags: true) and check out the tag';
  else if (described.startsWith(`${tag}-`) && /-\d+-g[0-9a-f]+(-dirty)?$/.test(described))
    hint = `HEAD is ${/-(\d+)-g/.exec(described)![1]} commit(s) past the tag: check out the tag itself`;
  if (described.endsWith('-dirty')) hint += ', and commit or drop the uncommitted changes';
  throw new UserError(`verify-describe: git describe says "${described}", the tag is "${tag}"; ${hint}`);
}

/** HEAD's commit, for the revision label (undefined outside git). */
export async function headRevision(dir: string): Promise<string | undefined> {
  const r = await git(dir, ['rev-parse', 'HEAD']).catch(() => undefined);
  return r?.code === 0 ? r.stdout.trim() : undefined;
}

/** The origin remote's URL without credentials, for the source label. */
export async function originUrl(dir: string): Promise<string | undefined> {
  const r = await git(dir, ['remote', 'get-url', 'origin']).catch(() => undefined);
  if (r?.code !== 0) return undefined;
  const url = r.stdout.trim();
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\.git$/, '');
  } catch {
    return url.replace(/\.git$/, '');
  }
}
