// Uploads files as a workflow artifact (@actions/artifact, loaded only when asked for).
import { OptionError, UserError } from '../errors.js';

/** Uploads the files as artifact `name`; an OptionError (upload) outside a GitHub Actions job. */
export async function uploadArtifact(name: string, files: string[], rootDir: string, retentionDays?: number): Promise<string> {
  if (!process.env.ACTIONS_RUNTIME_TOKEN || !process.env.GITHUB_ACTIONS)
    throw new OptionError('upload', 'artifacts can only be uploaded inside a GitHub Actions job (no ACTIONS_RUNTIME_TOKEN here); the bundle is on disk');
  const { DefaultArtifactClient } = await import('@actions/artifact');
  const res = await new DefaultArtifactClient().uploadArtifact(name, files, rootDir, retentionDays ? { retentionDays } : {});
  if (res.id === undefined) throw new UserError(`artifact ${name}: the upload returned no id`);
  return String(res.id);
}
