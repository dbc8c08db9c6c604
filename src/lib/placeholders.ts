// {name} placeholders in destinations and names. Their values come from whoever dispatches a
// workflow (`version`, `tag`), so a value must stay one path segment: no separators, no dot
// segments, nothing a URL or a shell would read as structure.
import { UserError } from './errors.js';

/** Why a placeholder value would not stay one plain segment, or undefined when it is fine. */
export function unsafeSegment(value: string): string | undefined {
  if (value === '') return 'it is empty';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'it holds a control character';
  if (/\s/.test(value)) return 'it holds white space';
  if (value.includes('/') || value.includes('\\')) return 'it holds a path separator ("/" or "\\")';
  if (value.includes('..')) return 'it holds ".."';
  if (value === '.') return 'it is "."';
  // a URL decodes %2e%2e into "..", and ? and # end the path
  const odd = /[%?#]/.exec(value);
  if (odd) return `it holds "${odd[0]}"`;
  return undefined;
}

/**
 * Fills `{name}` placeholders of `template` from `values`. A value that is missing, or that
 * would not stay one plain segment, is an error naming the placeholder (`what`, if given, says
 * where the template came from); a placeholder not in `values` is an error listing the known ones.
 * `paths`: placeholders whose values are Airlift's own (not a dispatcher's) and may hold "/".
 */
export function fillPlaceholders(
  template: string,
  values: Record<string, string | undefined>,
  what: string | undefined,
  opts: { missing?: (name: string) => string; paths?: string[] } = {},
): string {
  const known = Object.keys(values);
  const at = what ? `${what}: ` : '';
  return template.replace(/\{([A-Za-z_-]+)\}/g, (_m, name: string) => {
    if (!known.includes(name)) throw new UserError(`${at}unknown placeholder {${name}} (use ${known.map((k) => `{${k}}`).join(' or ')})`);
    const v = values[name];
    if (v === undefined || v === '')
      throw new UserError(opts.missing?.(name) ?? (what ? `${what} uses {${name}}, but no ${name} is set` : `{${name}} is used, but no ${name} is set`));
    if (opts.paths?.includes(name)) return v;
    const why = unsafeSegment(v);
    if (why)
      throw new UserError(
        `${at}{${name}} cannot be "${printable(v)}": ${why}. A placeholder value is one plain name (e.g. 1.2.0 or v1.2.0-rc1), so it can never point outside the destination`,
      );
    return v;
  });
}

/** A value as shown in an error: control characters escaped, long values cut. */
function printable(v: string): string {
  // eslint-disable-next-line no-control-regex
  const s = v.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/** {tag} when none is given: the pushed tag of a tag-triggered run (GITHUB_REF refs/tags/…). */
export function tagFromRef(ref = process.env.GITHUB_REF ?? ''): string | undefined {
  return ref.startsWith('refs/tags/') ? ref.slice('refs/tags/'.length) : undefined;
}
