// Short-lived OSS credentials that renew themselves: Alibaba Cloud STS AssumeRoleWithOIDC
// (anonymous: the OIDC token is the proof) with the job's GitHub OIDC token, or a token file
// (ALIBABA_CLOUD_OIDC_TOKEN_FILE, as Kubernetes RRSA writes it). Asked again before expiry, so
// an upload longer than the token's lifetime keeps going.
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { OptionError, UserError } from '../errors.js';
import { addSecret, debug } from '../log.js';
import { retry, RetryableError } from '../retry.js';
import { networkReason } from '../http.js';

export interface OidcRole {
  roleArn: string;
  providerArn: string;
  sessionName: string;
  /** seconds the STS token lives (900 … the role's MaxSessionDuration) */
  durationSeconds: number;
  /** https://sts.aliyuncs.com unless set (a regional or VPC endpoint) */
  endpoint: string;
  audience: string;
}

export interface StsCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
  /** epoch ms */
  expires: number;
}

/** The OIDC token: from the GitHub Actions token service, else from ALIBABA_CLOUD_OIDC_TOKEN_FILE. */
export async function oidcToken(audience: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (url && bearer) {
    const u = new URL(url);
    u.searchParams.set('audience', audience);
    return retry(async () => {
      const res = await fetch(u, { headers: { authorization: `Bearer ${bearer}`, accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
      if (res.status >= 500 || res.status === 429) throw new RetryableError(`the GitHub OIDC token service answered ${res.status}`);
      if (!res.ok) throw new UserError(`the GitHub OIDC token service answered ${res.status}; does the job have "permissions: id-token: write"?`);
      const value = ((await res.json()) as { value?: string }).value;
      if (!value) throw new UserError('the GitHub OIDC token service answered without a token');
      addSecret(value);
      return value;
    }).catch((err: unknown) => {
      const why = networkReason(err);
      throw why ? new UserError(`the GitHub OIDC token service ${u.host} got no answer: ${why}`, { cause: err }) : err;
    });
  }
  const file = env.ALIBABA_CLOUD_OIDC_TOKEN_FILE;
  if (file) {
    const value = (
      await readFile(file, 'utf8').catch((err: Error) => {
        throw new UserError(`ALIBABA_CLOUD_OIDC_TOKEN_FILE ${file} cannot be read (${err.message})`);
      })
    ).trim();
    addSecret(value);
    return value;
  }
  throw new OptionError('role', 'needs an OIDC token: on GitHub give the job "permissions: id-token: write"; elsewhere set ALIBABA_CLOUD_OIDC_TOKEN_FILE');
}

/** One AssumeRoleWithOIDC call. */
export async function assumeRoleWithOidc(role: OidcRole, env: NodeJS.ProcessEnv = process.env): Promise<StsCredentials> {
  const token = await oidcToken(role.audience, env);
  return retry(async () => {
    // a fresh nonce and timestamp for every attempt
    const form = new URLSearchParams({
      Action: 'AssumeRoleWithOIDC',
      Version: '2015-04-01',
      Format: 'JSON',
      Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      SignatureNonce: randomUUID(),
      RoleArn: role.roleArn,
      OIDCProviderArn: role.providerArn,
      OIDCToken: token,
      RoleSessionName: role.sessionName,
      DurationSeconds: String(role.durationSeconds),
    });
    const res = await fetch(role.endpoint, {
      method: 'POST',
      body: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let j: { Code?: string; Message?: string; Credentials?: { AccessKeyId?: string; AccessKeySecret?: string; SecurityToken?: string; Expiration?: string } };
    try {
      j = JSON.parse(text) as typeof j;
    } catch {
      j = {};
    }
    if (res.status >= 500 || res.status === 429) throw new RetryableError(`STS ${new URL(role.endpoint).host} answered ${res.status}`);
    const c = j.Credentials;
    if (!res.ok || !c?.AccessKeyId || !c.AccessKeySecret || !c.SecurityToken)
      throw new UserError(
        `STS AssumeRoleWithOIDC for ${role.roleArn} was refused (${res.status}${j.Code ? ` ${j.Code}` : ''}${j.Message ? `: ${j.Message.slice(0, 200)}` : ''}); check role-arn, oidc-provider-arn and the role's trust policy`,
      );
    addSecret(c.AccessKeySecret);
    addSecret(c.SecurityToken);
    const parsed = c.Expiration ? Date.parse(c.Expiration) : NaN;
    const expires = Number.isFinite(parsed) ? parsed : Date.now() + role.durationSeconds * 1000;
    debug(`STS: credentials ${c.AccessKeyId.slice(0, 8)}… valid until ${new Date(expires).toISOString()}`);
    return { accessKeyId: c.AccessKeyId, accessKeySecret: c.AccessKeySecret, securityToken: c.SecurityToken, expires };
  }).catch((err: unknown) => {
    const why = networkReason(err);
    throw why ? new UserError(`STS ${new URL(role.endpoint).host} (sts-endpoint) got no answer: ${why}`, { cause: err }) : err;
  });
}

/** How long to use credentials before asking again: half their life, at most until 5 minutes before expiry, at least 1 s. */
export function refreshInterval(creds: StsCredentials, now = Date.now()): number {
  const left = creds.expires - now;
  return Math.max(1000, Math.min(left - 5 * 60_000, left / 2));
}
