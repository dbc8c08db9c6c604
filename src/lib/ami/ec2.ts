// EC2 (and IAM) calls of an AMI build, each through `call`: made, or in a dry run printed with
// its parameters and not made. Clients per region, bounded by timeouts; throttling is retried by
// the SDK and, while polling, by backing off.
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { IAMClient } from '@aws-sdk/client-iam';
import { idleTimeoutMs } from '../http.js';
import { info } from '../log.js';

export interface AwsAccess {
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

type Sendable = { send(command: unknown): Promise<unknown> };
type Command = { constructor: { name: string }; input: unknown };

export class Ec2Calls {
  private readonly clients = new Map<string, Promise<EC2Client>>();
  private iam?: Promise<IAMClient>;
  /** every call made or, in a dry run, printed: "region Action" */
  readonly log: string[] = [];

  constructor(
    private readonly access: AwsAccess,
    readonly dryRun: boolean,
  ) {}

  private config(region: string) {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    return {
      region,
      maxAttempts: 6,
      requestHandler: { connectionTimeout: 30_000, socketTimeout: idleTimeoutMs() },
      ...(this.access.credentials ? { credentials: this.access.credentials } : {}),
      ...(this.access.endpoint ? { endpoint: this.access.endpoint } : {}),
    };
  }

  ec2(region: string): Promise<EC2Client> {
    let c = this.clients.get(region);
    if (!c) {
      c = import('@aws-sdk/client-ec2').then(({ EC2Client }) => new EC2Client(this.config(region)));
      this.clients.set(region, c);
    }
    return c;
  }

  iamClient(region: string): Promise<IAMClient> {
    this.iam ??= import('@aws-sdk/client-iam').then(({ IAMClient }) => new IAMClient(this.config(region)));
    return this.iam;
  }

  /** Sends `command` with `client`; in a dry run prints it (action and parameters) and returns `dry` instead. */
  async call<T>(region: string, client: Promise<Sendable>, command: Command, dry: T): Promise<T> {
    const action = command.constructor.name.replace(/Command$/, '');
    this.log.push(`${region} ${action}`);
    if (this.dryRun) {
      info(`dry run: would call ${action} in ${region} ${JSON.stringify(command.input)}`);
      return dry;
    }
    return (await (await client).send(command)) as T;
  }
}

/** Whether an SDK error has one of these error codes. */
export function awsCode(err: unknown, ...codes: string[]): boolean {
  const e = err as { name?: string; Code?: string; code?: string };
  return codes.some((c) => e?.name === c || e?.Code === c || e?.code === c);
}
