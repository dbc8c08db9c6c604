// Destinations: oss://bucket/prefix, s3://bucket/prefix, http(s)://url, file://dir, with
// {version} and {tag} placeholders.
import { resolve } from 'node:path';
import { OptionError } from '../errors.js';
import { addSecret, warning } from '../log.js';
import { isLoopback } from '../registry/reference.js';
import { fillPlaceholders } from '../placeholders.js';
import { FileStorage } from './file.js';
import { HttpStorage, shownDestination } from './http.js';

export { shownDestination };
import { OssStorage } from './oss.js';
import type { OidcRole } from './aliyun-sts.js';
import { S3Storage } from './s3.js';
import type { Storage } from './types.js';

export interface Credentials {
  accessKeyId?: string;
  accessKeySecret?: string;
  securityToken?: string;
  token?: string;
}

/**
 * Fills {version} and {tag}. Their values come from whoever dispatches the workflow, so each must
 * stay one plain name: "../x", "a/b", "%2e%2e" and the like are refused, never sent.
 */
export function expandDestination(dest: string, values: { version?: string; tag?: string }): string {
  return fillPlaceholders(dest, { version: values.version, tag: values.tag }, undefined, {
    missing: (name) => `{${name}} is used, but no ${name} is given${name === 'tag' ? ' (give one, or run on a tag: GITHUB_REF refs/tags/…)' : ''}`,
  });
}

/** An endpoint: an http(s) URL, or (OSS) a bare host. */
function checkEndpoint(endpoint: string, bareHostOk: boolean): void {
  const example = bareHostOk ? 'oss-cn-hangzhou.aliyuncs.com or https://…' : 'https://s3.example.com';
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : bareHostOk ? `https://${endpoint}` : '';
  let u: URL | undefined;
  try {
    u = text ? new URL(text) : undefined;
  } catch {
    u = undefined;
  }
  if (!u || !['http:', 'https:'].includes(u.protocol) || !u.hostname)
    throw new OptionError('endpoint', `"${endpoint}" is not ${bareHostOk ? 'a host or an http(s) URL' : 'an http(s) URL'} (e.g. ${example})`);
}

/**
 * The store a destination names. A wrong value is an OptionError naming `destination`,
 * `endpoint`, `role` or `accessKeySecret`.
 */
export function openStorage(dest: string, creds: Credentials, opts: { endpoint?: string; region?: string; method?: 'PUT' | 'POST'; role?: OidcRole } = {}): Storage {
  const m = /^([a-z0-9+]+):\/\/(.*)$/.exec(dest);
  if (!m) throw new OptionError('destination', `"${dest}" has no scheme (use oss://, s3://, https://, http:// or file://)`);
  const [, scheme, rest] = m;
  for (const s of [creds.accessKeySecret, creds.securityToken, creds.token]) addSecret(s);
  if (opts.role && scheme !== 'oss')
    throw new OptionError('role', 'OIDC roles are for oss:// destinations (for s3://, aws-actions/configure-aws-credentials works: the default AWS chain is read)');
  switch (scheme) {
    case 'file':
      if (!rest) throw new OptionError('destination', 'file:// needs a directory');
      return new FileStorage(dest, resolve(rest));
    case 's3': {
      if (opts.endpoint) checkEndpoint(opts.endpoint, false);
      const [bucket, ...path] = rest.split('/');
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket ?? '')) throw new OptionError('destination', `"${bucket ?? ''}" is not a valid bucket name (s3://bucket/prefix)`);
      const prefix = path.join('/').replace(/^\/+/, '');
      const credentials =
        creds.accessKeyId && creds.accessKeySecret
          ? { accessKeyId: creds.accessKeyId, secretAccessKey: creds.accessKeySecret, ...(creds.securityToken ? { sessionToken: creds.securityToken } : {}) }
          : undefined;
      if (creds.accessKeyId && !creds.accessKeySecret) throw new OptionError('accessKeySecret', 'is missing: an access key id was given without its secret');
      return new S3Storage(dest, bucket, prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix, { region: opts.region, endpoint: opts.endpoint, credentials });
    }
    case 'http':
    case 'https': {
      let u: URL;
      try {
        u = new URL(dest);
      } catch {
        throw new OptionError('destination', `"${shownDestination(dest)}" is not a URL`);
      }
      // a password or signature in the URL is a secret too
      addSecret(u.password);
      let user = u.username;
      let password = u.password;
      try {
        user = decodeURIComponent(u.username);
        password = decodeURIComponent(u.password);
        addSecret(password);
      } catch {
        // not valid percent-encoding: the raw value is registered
      }
      // sent as HTTP basic auth: a server echoing it back must not show it either
      if (password) addSecret(Buffer.from(`${user}:${password}`).toString('base64'));
      for (const v of u.searchParams.values()) if (v.length >= 8) addSecret(v);
      if (scheme === 'http' && creds.token && !isLoopback(u.host)) warning(`the token goes to ${u.host} over plain http, readable on the way; use https`);
      return new HttpStorage(dest, creds.token, opts.method ?? 'PUT');
    }
    case 'oss': {
      if (opts.endpoint) checkEndpoint(opts.endpoint, true);
      const [bucket, ...path] = rest.split('/');
      if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket ?? '')) throw new OptionError('destination', `"${bucket ?? ''}" is not a valid OSS bucket name (oss://bucket/prefix)`);
      const prefix = path.join('/').replace(/^\/+/, '');
      return new OssStorage(dest, bucket, prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix, {
        endpoint: opts.endpoint,
        region: opts.region,
        accessKeyId: creds.accessKeyId,
        accessKeySecret: creds.accessKeySecret,
        securityToken: creds.securityToken,
        role: opts.role,
      });
    }
    default:
      throw new OptionError('destination', `unknown scheme "${scheme}://" (use oss://, s3://, https://, http:// or file://)`);
  }
}
