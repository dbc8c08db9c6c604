// A small Docker registry token issuer (the distribution "token" auth spec) for tests: the
// registry itself is real and verifies what this signs. Run as a child process:
//   node token-server.mjs --port N --key key.pem --cert cert.pem --issuer I --service S --users users.json [--anonymous-pull]
// GET/POST /token → { token, access_token, expires_in, issued_at }; GET /stats → request counts.
import { createServer } from 'node:http';
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const port = Number(opt('port'));
const key = createPrivateKey(readFileSync(opt('key')));
const certPem = readFileSync(opt('cert'), 'utf8');
const certDer = Buffer.from(certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
const issuer = opt('issuer');
const service = opt('service');
const users = JSON.parse(readFileSync(opt('users'), 'utf8'));
const anonymousPull = args.includes('--anonymous-pull');
const expiresIn = Number(opt('expires-in', '300'));
const stats = { requests: 0, issued: 0, denied: 0, scopes: [] };

const b64url = (b) => Buffer.from(b).toString('base64url');

function jwt(sub, access) {
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
  const claims = { iss: issuer, sub, aud: service, exp: now + expiresIn, nbf: now - 10, iat: now, jti: randomUUID(), access };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
}

function parseScope(s) {
  // repository:name:actions (name may contain ':port' when it is a registry host)
  const first = s.indexOf(':');
  const last = s.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  return {
    type: s.slice(0, first),
    name: s.slice(first + 1, last),
    actions: s
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function handle(req, res, form) {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/stats') return reply(res, 200, stats);
  if (url.pathname !== '/token') return reply(res, 404, { error: 'not found' });
  stats.requests++;
  const params = form ?? url.searchParams;
  if (params.get('service') !== service) return reply(res, 400, { error: 'unknown service' });
  let user;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Basic ')) {
    const [u, ...rest] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
    if (users[u] !== rest.join(':')) {
      stats.denied++;
      return reply(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] });
    }
    user = u;
  } else if (form && params.get('grant_type') === 'password') {
    if (users[params.get('username')] !== params.get('password')) {
      stats.denied++;
      return reply(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] });
    }
    user = params.get('username');
  }
  const access = [];
  for (const raw of params.getAll('scope').flatMap((s) => s.split(' '))) {
    const scope = parseScope(raw);
    if (!scope) continue;
    stats.scopes.push(raw);
    const actions = user ? scope.actions : anonymousPull ? scope.actions.filter((a) => a === 'pull') : [];
    if (actions.length) access.push({ ...scope, actions });
  }
  stats.issued++;
  const token = jwt(user ?? '', access);
  reply(res, 200, { token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() });
}

createServer((req, res) => {
  if (req.method === 'POST') {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handle(req, res, new URLSearchParams(body)));
  } else handle(req, res);
}).listen(port, '127.0.0.1', () => process.stdout.write(`token server on 127.0.0.1:${port}\n`));
process.on('SIGTERM', () => process.exit(0));
