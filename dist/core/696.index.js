export const id = 696;
export const ids = [696];
export const modules = {

/***/ 2696:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  "default": () => (/* binding */ sync_images)
});

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./src/lib/errors.ts
var errors = __webpack_require__(7268);
// EXTERNAL MODULE: ./src/lib/format.ts
var format = __webpack_require__(432);
// EXTERNAL MODULE: ./src/lib/http.ts + 1 modules
var http = __webpack_require__(7138);
// EXTERNAL MODULE: ./src/lib/log.ts
var log = __webpack_require__(1025);
;// CONCATENATED MODULE: ./src/lib/retry.ts
// Exponential backoff with full jitter; honours Retry-After; retries only what is retryable;
// bounded both in attempts and in total time.

const RETRYABLE_CODES = new Set([
    'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH',
    'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
    'ERR_STREAM_PREMATURE_CLOSE',
]);
/** Marks an error as transient regardless of its type (e.g. a digest mismatch in transit). */
class RetryableError extends Error {
    constructor(message, options) {
        super(message, options);
        this.name = 'RetryableError';
    }
}
function isRetryableStatus(status) {
    return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}
function isRetryable(err) {
    if (err instanceof RetryableError)
        return true;
    if (err instanceof errors/* UserError */.yo)
        return false;
    if (err instanceof errors/* HttpError */.j$)
        return isRetryableStatus(err.status);
    if (!(err instanceof Error))
        return false;
    const code = err.code;
    if (code && RETRYABLE_CODES.has(code))
        return true;
    if (err.name === 'TimeoutError')
        return true;
    const cause = err.cause;
    return cause !== undefined && cause !== err && isRetryable(cause);
}
function header(headers, name) {
    for (const [k, v] of Object.entries(headers))
        if (k.toLowerCase() === name)
            return Array.isArray(v) ? v[0] : v;
    return undefined;
}
/** Retry-After in ms (seconds or an HTTP date), or undefined. */
function retryAfterMs(err, now = Date.now()) {
    if (!(err instanceof errors/* HttpError */.j$))
        return undefined;
    const v = header(err.headers, 'retry-after');
    if (!v)
        return undefined;
    if (/^\d+$/.test(v.trim()))
        return Number(v.trim()) * 1000;
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}
function sleep(ms, signal) {
    return new Promise((resolve, reject) => {
        if (signal?.aborted)
            return reject(signal.reason);
        const t = setTimeout(() => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
        }, ms);
        const onAbort = () => {
            clearTimeout(t);
            reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
    });
}
/** Full-jitter delay before retry number `attempt` (1-based). */
function backoffDelay(attempt, base, max, random) {
    return Math.floor(random() * Math.min(max, base * 2 ** (attempt - 1)));
}
async function retry(fn, opts = {}) {
    const attempts = opts.attempts ?? 5;
    const base = opts.baseDelayMs ?? 250;
    const max = opts.maxDelayMs ?? 20_000;
    const maxTotal = opts.maxTotalMs ?? 5 * 60_000;
    const retryable = opts.isRetryable ?? isRetryable;
    const random = opts.random ?? Math.random;
    const wait = opts.sleep ?? sleep;
    const now = opts.now ?? Date.now;
    const start = now();
    for (let attempt = 1;; attempt++) {
        try {
            return await fn(attempt);
        }
        catch (err) {
            if (opts.signal?.aborted || attempt >= attempts || !retryable(err))
                throw err;
            const after = retryAfterMs(err, now());
            const delayMs = Math.max(backoffDelay(attempt, base, max, random), after ?? 0);
            if (now() - start + delayMs > maxTotal)
                throw err;
            opts.onRetry?.({ attempt, delayMs, error: err });
            await wait(delayMs, opts.signal);
        }
    }
}

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(8161);
// EXTERNAL MODULE: ./node_modules/yaml/dist/index.js
var dist = __webpack_require__(8815);
// EXTERNAL MODULE: external "node:child_process"
var external_node_child_process_ = __webpack_require__(1421);
;// CONCATENATED MODULE: ./src/lib/exec.ts
// Runs external commands: output streamed to the log line by line (redacted), stdout
// captured, a missing binary named together with the Debian package that provides it.



/** Debian packages providing the binaries Airlift calls. */
const DEBIAN_PACKAGES = {
    docker: 'docker.io',
    dockerd: 'docker.io',
    skopeo: 'skopeo',
    'docker-registry': 'docker-registry',
    htpasswd: 'apache2-utils',
    'qemu-img': 'qemu-utils',
    'update-binfmts': 'binfmt-support',
    busybox: 'busybox-static',
    aws: 'awscli',
    git: 'git',
    xz: 'xz-utils',
    openssl: 'openssl',
    tar: 'tar',
};
function packageFor(cmd) {
    const base = cmd.split('/').pop() ?? cmd;
    if (base.startsWith('qemu-') && base.endsWith('-static'))
        return 'qemu-user-static';
    return DEBIAN_PACKAGES[base];
}
class ExecError extends Error {
    code;
    stdout;
    stderr;
    constructor(message, code, stdout, stderr) {
        super(message);
        this.code = code;
        this.stdout = stdout;
        this.stderr = stderr;
        this.name = 'ExecError';
    }
}
const TAIL = 4000;
function exec(cmd, args, opts = {}) {
    const stream = opts.stream ?? true;
    (0,log/* debug */.Yz)(`exec: ${cmd} ${args.join(' ')}`);
    return new Promise((resolve, reject) => {
        const child = (0,external_node_child_process_.spawn)(cmd, args, {
            cwd: opts.cwd,
            env: opts.env ?? process.env,
            stdio: ['pipe', 'pipe', 'pipe'],
            signal: opts.signal,
        });
        let stdout = '';
        let stderr = '';
        const lineLogger = () => {
            let pending = '';
            return {
                push(chunk) {
                    pending += chunk;
                    const lines = pending.split('\n');
                    pending = lines.pop() ?? '';
                    for (const l of lines)
                        (stream ? log/* info */.pq : log/* debug */.Yz)(l);
                },
                end() {
                    if (pending)
                        (stream ? log/* info */.pq : log/* debug */.Yz)(pending);
                },
            };
        };
        const outLog = lineLogger();
        const errLog = lineLogger();
        if (opts.stdout)
            child.stdout.pipe(opts.stdout);
        else
            child.stdout.on('data', (b) => {
                const s = b.toString();
                stdout += s;
                outLog.push(s);
            });
        child.stderr.on('data', (b) => {
            const s = b.toString();
            stderr = (stderr + s).slice(-64 * 1024);
            errLog.push(s);
        });
        child.on('error', (err) => {
            if (err.code === 'ENOENT') {
                const pkg = packageFor(cmd);
                reject(new errors/* UserError */.yo(`"${cmd}" was not found on PATH${pkg ? ` (install the Debian package ${pkg}: apt-get install ${pkg})` : ''}`));
            }
            else
                reject(err);
        });
        child.on('close', (code, sig) => {
            outLog.end();
            errLog.end();
            const exit = code ?? (sig ? 128 : 1);
            if (exit !== 0 && !opts.allowFailure) {
                const tail = stderr.trim().slice(-TAIL);
                reject(new ExecError(`${cmd} ${args[0] ?? ''} failed with exit code ${code ?? sig}${tail ? `: ${tail}` : ''}`, code, stdout, stderr));
                return;
            }
            resolve({ code: exit, stdout, stderr });
        });
        child.stdin.on('error', () => undefined);
        if (opts.input !== undefined)
            child.stdin.end(opts.input);
        else
            child.stdin.end();
    });
}
/** Whether a binary is on PATH. */
async function which(cmd) {
    const { access } = await Promise.resolve(/* import() */).then(__webpack_require__.t.bind(__webpack_require__, 1455, 23));
    const { constants } = await Promise.resolve(/* import() */).then(__webpack_require__.t.bind(__webpack_require__, 3024, 23));
    const { delimiter, join } = await Promise.resolve(/* import() */).then(__webpack_require__.t.bind(__webpack_require__, 6760, 23));
    if (cmd.includes('/'))
        return access(cmd, constants.X_OK).then(() => cmd, () => undefined);
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
        const p = join(dir, cmd);
        if (await access(p, constants.X_OK).then(() => true, () => false))
            return p;
    }
    return undefined;
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
// EXTERNAL MODULE: external "node:stream"
var external_node_stream_ = __webpack_require__(7075);
;// CONCATENATED MODULE: ./src/lib/registry/digest.ts
// Content digests: parsed, validated, and verified while a stream passes through.



const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
function isDigest(s) {
    return DIGEST.test(s);
}
function digestHex(d) {
    return d.slice(d.indexOf(':') + 1);
}
function digestAlgorithm(d) {
    return d.slice(0, d.indexOf(':'));
}
function digestOf(data, algorithm = 'sha256') {
    return `${algorithm}:${(0,external_node_crypto_.createHash)(algorithm).update(data).digest('hex')}`;
}
/** A blob whose bytes did not hash to the digest that named it: transient (re-fetch). */
class DigestMismatchError extends RetryableError {
    what;
    expected;
    actual;
    size;
    constructor(what, expected, actual, size) {
        super(`${what}: content does not match its digest (expected ${expected}, got ${actual}, ${size} bytes)`);
        this.what = what;
        this.expected = expected;
        this.actual = actual;
        this.size = size;
        this.name = 'DigestMismatchError';
    }
}
/**
 * Passes bytes through, failing at the end when digest or size differ. The last chunk is held
 * back until the digest is checked, so no consumer ever receives a complete unverified blob.
 */
class DigestVerifier extends external_node_stream_.Transform {
    expected;
    expectedSize;
    what;
    onBytes;
    hash;
    n = 0;
    held;
    /** onBytes: called with each chunk's size as it passes (progress, accounting). */
    constructor(expected, expectedSize, what, onBytes) {
        super();
        this.expected = expected;
        this.expectedSize = expectedSize;
        this.what = what;
        this.onBytes = onBytes;
        this.hash = (0,external_node_crypto_.createHash)(digestAlgorithm(expected));
    }
    get bytes() {
        return this.n;
    }
    _transform(chunk, _enc, cb) {
        this.n += chunk.length;
        if (this.expectedSize !== undefined && this.n > this.expectedSize) {
            cb(new RetryableError(`${this.what}: more than the expected ${this.expectedSize} bytes`));
            return;
        }
        this.hash.update(chunk);
        this.onBytes?.(chunk.length);
        const prev = this.held;
        this.held = chunk;
        cb(null, prev);
    }
    _flush(cb) {
        const actual = `${digestAlgorithm(this.expected)}:${this.hash.digest('hex')}`;
        if (this.expectedSize !== undefined && this.n !== this.expectedSize)
            cb(new RetryableError(`${this.what}: got ${this.n} bytes, expected ${this.expectedSize}`));
        else if (actual !== this.expected)
            cb(new DigestMismatchError(this.what, this.expected, actual, this.n));
        else
            cb(null, this.held);
    }
}

;// CONCATENATED MODULE: ./src/lib/registry/reference.ts
// Image references: parsed, normalised (docker.io/library/…), validated with the reason.


const DOCKER_HUB = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
class ReferenceError extends errors/* UserError */.yo {
}
/** Whether the first path component names a registry (docker's rule: a dot, a port, or localhost). */
function looksLikeRegistry(component) {
    return component.includes('.') || component.includes(':') || component === 'localhost' || component.startsWith('[');
}
function normaliseRegistry(host) {
    const h = host.toLowerCase();
    return h === 'index.docker.io' || h === 'registry-1.docker.io' ? DOCKER_HUB : host;
}
/**
 * Parses `[registry/]repository[:tag][@digest]`. A reference without a registry gets
 * `defaultRegistry` (docker.io unless given); single-name docker.io repositories get `library/`.
 */
function parseReference(input, opts = {}) {
    const s = input.trim();
    const fail = (why) => {
        throw new ReferenceError(`"${s}" is not a valid image reference (${why})`);
    };
    if (!s)
        fail('it is empty');
    if (/\s/.test(s))
        fail('it contains white space');
    let rest = s;
    let digest;
    const at = rest.indexOf('@');
    if (at >= 0) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
        if (!isDigest(digest))
            fail(`"${digest}" is not a digest: use sha256: and 64 lower-case hex characters`);
    }
    let tag;
    const slash = rest.lastIndexOf('/');
    const colon = rest.lastIndexOf(':');
    if (colon > slash) {
        tag = rest.slice(colon + 1);
        rest = rest.slice(0, colon);
        if (!TAG.test(tag))
            fail(`"${tag}" is not a valid tag: letters, digits, "_", "." and "-", at most 128, not starting with "." or "-"`);
    }
    const parts = rest.split('/');
    let registry;
    if (parts.length > 1 && looksLikeRegistry(parts[0])) {
        registry = normaliseRegistry(parts.shift());
        if (!HOST.test(registry))
            fail(`"${registry}" is not a valid registry host`);
    }
    else
        registry = opts.defaultRegistry ? normaliseRegistry(opts.defaultRegistry) : DOCKER_HUB;
    if (parts.length === 0 || parts.some((p) => p === ''))
        fail('the repository path is empty or has an empty component');
    for (const p of parts) {
        if (COMPONENT.test(p))
            continue;
        if (COMPONENT.test(p.toLowerCase()))
            fail('repository names are lower-case');
        fail(`"${p}" is not a valid repository component: lower-case letters, digits and single ".", "_", "__" or "-" separators`);
    }
    if (registry === DOCKER_HUB && parts.length === 1)
        parts.unshift('library');
    const repository = parts.join('/');
    if (repository.length > 255)
        fail('the repository name is longer than 255 characters');
    return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}
function formatReference(r) {
    return `${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}
/** The tag or digest the registry API addresses (a digest wins over a tag). */
function referenceTarget(r) {
    return r.digest ?? r.tag ?? 'latest';
}
/** `registry/repository` */
function repositoryName(r) {
    return `${r.registry}/${r.repository}`;
}
/** The host the registry API is served from (Docker Hub's API lives elsewhere). */
function apiHost(registry) {
    return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
}
function isLoopback(registry) {
    const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.split(':')[0];
    return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

;// CONCATENATED MODULE: ./src/lib/registry/auth.ts
// Registry credentials and auth challenges: credentials from inputs, from
// $DOCKER_CONFIG/config.json (auths, credHelpers, credsStore); WWW-Authenticate parsing.








/** Parses a WWW-Authenticate header: `Bearer realm="…",service="…",scope="…"` (several allowed). */
function parseChallenges(header) {
    if (!header)
        return [];
    const out = [];
    const re = /([A-Za-z][A-Za-z0-9_-]*)(?:\s+|$)((?:[A-Za-z0-9_-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^\s,"]*)\s*,?\s*)*)/g;
    for (const m of header.matchAll(re)) {
        const params = {};
        for (const p of m[2].matchAll(/([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))/g))
            params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
        out.push({ scheme: m[1].toLowerCase(), params });
    }
    return out;
}
/** A config.json `auths` key for a registry can be a host, a URL, or Docker Hub's legacy URL. */
function configKeyMatches(key, registry) {
    let host = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    host = normaliseRegistry(host);
    return host === registry || (registry === DOCKER_HUB && key.includes('index.docker.io'));
}
/** Credentials from $DOCKER_CONFIG/config.json (or ~/.docker/config.json). */
function dockerConfigSource(configDir = process.env.DOCKER_CONFIG ?? (0,external_node_path_.join)((0,external_node_os_.homedir)(), '.docker')) {
    let loaded;
    const load = () => (loaded ??= (0,promises_.readFile)((0,external_node_path_.join)(configDir, 'config.json'), 'utf8').then((t) => JSON.parse(t), () => undefined));
    return async (registry) => {
        const cfg = await load();
        if (!cfg)
            return undefined;
        const helperFor = Object.entries(cfg.credHelpers ?? {}).find(([k]) => configKeyMatches(k, registry))?.[1];
        const entry = Object.entries(cfg.auths ?? {}).find(([k]) => configKeyMatches(k, registry))?.[1];
        if (entry?.auth || entry?.username || entry?.identitytoken) {
            let { username, password } = entry;
            if (entry.auth) {
                const decoded = Buffer.from(entry.auth, 'base64').toString();
                const i = decoded.indexOf(':');
                username = decoded.slice(0, i);
                password = decoded.slice(i + 1);
            }
            const c = { username, password, identityToken: entry.identitytoken };
            (0,log/* addSecret */.Ck)(c.password);
            (0,log/* addSecret */.Ck)(c.identityToken);
            return c;
        }
        const helper = helperFor ?? cfg.credsStore;
        if (!helper)
            return undefined;
        return credentialHelper(helper, registry);
    };
}
/** `docker-credential-<name> get`, given the server URL on stdin. */
async function credentialHelper(name, registry) {
    const server = registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry;
    const r = await exec(`docker-credential-${name}`, ['get'], { input: server, stream: false, allowFailure: true });
    if (r.code !== 0) {
        if (/credentials not found/i.test(r.stdout + r.stderr))
            return undefined;
        throw new errors/* UserError */.yo(`docker-credential-${name} get failed for ${registry}: ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
    }
    let parsed;
    try {
        parsed = JSON.parse(r.stdout);
    }
    catch {
        throw new errors/* UserError */.yo(`docker-credential-${name} get printed something that is not JSON for ${registry}`);
    }
    (0,log/* addSecret */.Ck)(parsed.Secret);
    if (parsed.Username === '<token>')
        return { identityToken: parsed.Secret };
    return { username: parsed.Username, password: parsed.Secret };
}
/**
 * Parses the `registry-auth` input: a YAML map of registry → {username, password} or
 * {username-env, password-env} (names of environment variables holding them).
 */
function parseRegistryAuth(text, env = process.env, inputName = 'registry-auth') {
    if (!text.trim())
        return [];
    let doc;
    try {
        doc = (0,dist/* parse */.qg)(text);
    }
    catch (err) {
        throw new errors/* UserError */.yo(`input "${inputName}" is not valid YAML: ${err.message.split('\n')[0]}`);
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc))
        throw new errors/* UserError */.yo(`input "${inputName}" must be a map of registry → {username, password} or {username-env, password-env}`);
    const out = [];
    for (const [registry, value] of Object.entries(doc)) {
        const where = `input "${inputName}", registry ${registry}`;
        if (!value || typeof value !== 'object')
            throw new errors/* UserError */.yo(`${where}: expected {username, password} or {username-env, password-env}`);
        const v = value;
        const known = ['username', 'password', 'username-env', 'password-env'];
        const unknown = Object.keys(v).filter((k) => !known.includes(k));
        if (unknown.length)
            throw new errors/* UserError */.yo(`${where}: unknown key ${unknown.map((k) => `"${k}"`).join(', ')} (use ${known.join(', ')})`);
        const fromEnv = (key) => {
            const name = v[key];
            if (name === undefined)
                return undefined;
            if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
                throw new errors/* UserError */.yo(`${where}: ${key} must name an environment variable`);
            const val = env[name];
            if (val === undefined || val === '')
                throw new errors/* UserError */.yo(`${where}: environment variable ${name} (${key}) is not set`);
            return val;
        };
        const username = (v.username !== undefined ? String(v.username) : undefined) ?? fromEnv('username-env');
        const password = (v.password !== undefined ? String(v.password) : undefined) ?? fromEnv('password-env');
        (0,log/* addSecret */.Ck)(password);
        if (!username || !password)
            throw new errors/* UserError */.yo(`${where}: both a username and a password are needed`);
        out.push({ registry: normaliseRegistry(registry.replace(/^https?:\/\//, '').replace(/\/+$/, '')), credentials: { username, password } });
    }
    return out;
}
/** Credentials from explicit entries first, then the docker config. */
function credentialChain(entries, fallback = dockerConfigSource()) {
    return async (registry) => entries.find((e) => e.registry === registry)?.credentials ?? (await fallback(registry));
}

;// CONCATENATED MODULE: ./src/lib/registry/errors.ts
// Registry failures that callers act on: not found (a missing source), auth (wrong or missing
// credentials; never retried), and protocol errors with the registry's own error codes.

class NotFoundError extends errors/* UserError */.yo {
    what;
    code;
    constructor(what, code) {
        super(`${what} was not found${code ? ` (${code})` : ''}`);
        this.what = what;
        this.code = code;
        this.name = 'NotFoundError';
    }
}
class AuthError extends errors/* UserError */.yo {
    constructor(message) {
        super(message);
        this.name = 'AuthError';
    }
}
/** `CODE: message` from a registry's JSON error body, or a short text excerpt. */
function describeErrorBody(body) {
    const text = body.toString('utf8');
    try {
        const j = JSON.parse(text);
        if (j.errors?.length)
            return j.errors.map((e) => `${e.code ?? 'ERROR'}: ${e.message ?? ''}`.trim()).join('; ');
    }
    catch {
        // not JSON
    }
    return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}
function registryCodes(body) {
    try {
        return (JSON.parse(body.toString('utf8')).errors ?? []).map((e) => e.code ?? '');
    }
    catch {
        return [];
    }
}


;// CONCATENATED MODULE: ./src/lib/registry/media-types.ts
// Manifest media types: Docker v2, Docker manifest list, OCI manifest, OCI index.
const MEDIA = {
    dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
    dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
    ociManifest: 'application/vnd.oci.image.manifest.v1+json',
    ociIndex: 'application/vnd.oci.image.index.v1+json',
    dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
};
const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');
function isIndexType(mediaType) {
    return mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList;
}
function isManifestType(mediaType) {
    return mediaType === MEDIA.ociManifest || mediaType === MEDIA.dockerManifest;
}

;// CONCATENATED MODULE: ./src/lib/registry/client.ts









class RegistryClient {
    registry;
    opts;
    base;
    insecure;
    challenge;
    ready;
    tokens = new Map();
    credentials;
    unreachable;
    /** set once the registry refused a monolithic PUT: later uploads go in chunks directly */
    chunkedOnly = false;
    constructor(registry, opts = {}) {
        this.registry = registry;
        this.opts = opts;
        this.insecure = isLoopback(registry) || (opts.insecureRegistries ?? []).includes(registry);
    }
    retryOpts(what) {
        return {
            attempts: 5,
            ...this.opts.retry,
            onRetry: ({ attempt, delayMs, error }) => (0,log/* debug */.Yz)(`${what}: attempt ${attempt} failed (${error.message}); retrying in ${delayMs}ms`),
        };
    }
    creds() {
        return (this.credentials ??= this.opts.credentials ? this.opts.credentials(this.registry) : Promise.resolve(undefined));
    }
    /** GET /v2/: picks the scheme and learns the auth challenge. */
    ping() {
        // An unreachable registry (after retries) fails fast for a while instead of being retried
        // again by every request of the run.
        if (!this.ready && this.unreachable && this.unreachable.until > Date.now())
            return Promise.reject(this.unreachable.error);
        return (this.ready ??= retry(async () => {
            const host = apiHost(this.registry);
            const schemes = this.insecure ? ['https:', 'http:'] : ['https:'];
            let lastErr;
            for (const scheme of schemes) {
                const url = new URL(`${scheme}//${host}/v2/`);
                let res;
                try {
                    res = await (0,http/* httpSend */.v0)({ method: 'GET', url, insecure: this.insecure, headers: this.baseHeaders(), timeoutMs: 30_000 });
                }
                catch (err) {
                    lastErr = err;
                    const code = err.code ?? '';
                    // A plain-HTTP server answering a TLS hello: try plain HTTP next.
                    if (scheme === 'https:' && this.insecure && (code.startsWith('ERR_SSL') || code === 'EPROTO' || code === 'ECONNRESET' || /wrong version number|ssl/i.test(err.message)))
                        continue;
                    throw err;
                }
                await (0,http/* discard */.vf)(res.body);
                if (res.status !== 200 && res.status !== 401) {
                    if (res.status >= 500 || res.status === 429)
                        throw new errors/* HttpError */.j$(res.status, `registry ${this.registry}: /v2/ answered ${res.status}`, res.headers);
                    throw new errors/* HttpError */.j$(res.status, `registry ${this.registry}: /v2/ answered ${res.status}; is this a registry?`, res.headers);
                }
                this.base = new URL(`${scheme}//${host}/`);
                this.challenge = res.status === 401 ? (parseChallenges((0,http/* header */.wx)(res.headers, 'www-authenticate')).find((c) => c.scheme === 'bearer' || c.scheme === 'basic') ?? null) : null;
                return;
            }
            throw lastErr;
        }, this.retryOpts(`registry ${this.registry}`)).catch((err) => {
            this.ready = undefined;
            const code = err.code;
            if (code && !(err instanceof errors/* HttpError */.j$)) {
                const error = new errors/* UserError */.yo(`registry ${this.registry} is unreachable (${code}: ${err.message})`, { cause: err });
                this.unreachable = { error, until: Date.now() + 30_000 };
                throw error;
            }
            throw err;
        }));
    }
    baseHeaders() {
        return { 'user-agent': this.opts.userAgent ?? 'airlift' };
    }
    async token(scopes, challenge, force = false) {
        const key = [...scopes].sort().join(' ');
        const cached = this.tokens.get(key);
        if (cached && !force) {
            const t = await cached.catch(() => undefined);
            if (t && t.expires > Date.now())
                return t.value;
        }
        const p = this.fetchToken(scopes, challenge);
        this.tokens.set(key, p);
        p.catch(() => this.tokens.delete(key));
        return (await p).value;
    }
    async fetchToken(scopes, challenge) {
        const realm = challenge.params.realm;
        if (!realm)
            throw new AuthError(`registry ${this.registry}: its bearer challenge names no realm`);
        const url = new URL(realm);
        const creds = await this.creds();
        const headers = { ...this.baseHeaders(), accept: 'application/json' };
        let method = 'GET';
        let body;
        if (creds?.identityToken) {
            method = 'POST';
            const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'airlift' });
            if (challenge.params.service)
                form.set('service', challenge.params.service);
            if (scopes.length)
                form.set('scope', scopes.join(' '));
            body = Buffer.from(form.toString());
            headers['content-type'] = 'application/x-www-form-urlencoded';
        }
        else {
            if (challenge.params.service)
                url.searchParams.set('service', challenge.params.service);
            for (const s of scopes)
                url.searchParams.append('scope', s);
            if (creds?.username)
                headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
        }
        return retry(async () => {
            const res = await (0,http/* httpSend */.v0)({ method, url, headers, body, insecure: this.insecure || isLoopback(url.host), timeoutMs: 30_000 });
            const text = await (0,http/* readBody */.x8)(res.body, 1024 * 1024);
            if (res.status === 401 || res.status === 403)
                throw new AuthError(`registry ${this.registry}: the token service refused ${creds?.username ? `the credentials of "${creds.username}"` : 'anonymous access'} (${res.status}${text.length ? `: ${describeErrorBody(text)}` : ''}); check registry-auth for ${this.registry}`);
            if (res.status !== 200)
                throw new errors/* HttpError */.j$(res.status, `registry ${this.registry}: token service answered ${res.status}`, res.headers);
            const j = JSON.parse(text.toString('utf8'));
            const value = j.token ?? j.access_token;
            if (!value)
                throw new AuthError(`registry ${this.registry}: the token service answered without a token`);
            const ttl = Math.max(60, j.expires_in ?? 60) * 1000;
            return { value, expires: Date.now() + ttl - 30_000 };
        }, this.retryOpts(`token for ${this.registry}`));
    }
    async authorization(scopes, force) {
        const ch = this.challenge;
        if (!ch)
            return undefined;
        if (ch.scheme === 'basic') {
            const c = await this.creds();
            if (!c?.username)
                throw new AuthError(`registry ${this.registry} wants a username and password; add it to registry-auth (or docker login)`);
            return `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
        }
        return `Bearer ${await this.token(scopes, ch, force)}`;
    }
    /**
     * One request with auth: on a 401 the challenge is re-read and the request sent once more
     * with a fresh token (expired, or insufficient_scope). Redirects are followed without
     * sending Authorization to another host.
     */
    async send(req) {
        await this.ping();
        let url = new URL(req.path, this.base);
        for (let attempt = 0;; attempt++) {
            const headers = { ...this.baseHeaders(), ...req.headers };
            const auth = await this.authorization(req.scopes, attempt > 0);
            if (auth)
                headers.authorization = auth;
            const body = req.body?.();
            let res = await (0,http/* httpSend */.v0)({ method: req.method, url, headers, body, insecure: this.insecure, timeoutMs: req.timeoutMs });
            if (res.status === 401 && attempt === 0) {
                const ch = parseChallenges((0,http/* header */.wx)(res.headers, 'www-authenticate')).find((c) => c.scheme === 'bearer' || c.scheme === 'basic');
                await (0,http/* discard */.vf)(res.body);
                if (ch)
                    this.challenge = ch;
                if (body && !Buffer.isBuffer(body)) {
                    // A streamed body cannot be sent twice: refresh the token, let the caller restart.
                    body.destroy();
                    await this.authorization(req.scopes, true);
                    throw new RetryableError(`registry ${this.registry}: token refused mid-upload (401); restarting the upload`);
                }
                continue;
            }
            let hops = 0;
            while (req.redirects && [301, 302, 303, 307, 308].includes(res.status) && hops++ < 5) {
                const loc = (0,http/* header */.wx)(res.headers, 'location');
                await (0,http/* discard */.vf)(res.body);
                if (!loc)
                    throw new errors/* HttpError */.j$(res.status, `registry ${this.registry}: redirect without a Location`);
                const next = new URL(loc, url);
                const sameHost = next.host === url.host;
                const h = { ...this.baseHeaders(), ...req.headers };
                if (sameHost && headers.authorization)
                    h.authorization = headers.authorization;
                url = next;
                res = await (0,http/* httpSend */.v0)({ method: req.method, url, headers: h, insecure: this.insecure, timeoutMs: req.timeoutMs });
            }
            return res;
        }
    }
    /** Turns an unexpected status into the right error (auth, not found, retryable, other). */
    async fail(res, what) {
        const body = res.status === 0 ? Buffer.alloc(0) : await (0,http/* readBody */.x8)(res.body, 64 * 1024).catch(() => Buffer.alloc(0));
        const detail = body.length ? `: ${describeErrorBody(body)}` : '';
        if (res.status === 401)
            throw new AuthError(`registry ${this.registry}: authentication failed for ${what} (401${detail}); check registry-auth for ${this.registry}`);
        if (res.status === 403)
            throw new AuthError(`registry ${this.registry}: access denied to ${what} (403${detail})`);
        if (res.status === 404)
            throw new NotFoundError(`${this.registry}/${what}`, registryCodes(body)[0]);
        throw new errors/* HttpError */.j$(res.status, `registry ${this.registry}: ${what}: ${res.status}${detail}`, res.headers);
    }
    static scope(repo, actions) {
        return `repository:${repo}:${actions.join(',')}`;
    }
    // ------------------------------------------------------------------ manifests
    /** HEAD of a manifest: its digest without fetching it; undefined when absent. */
    async headManifest(repo, ref) {
        return retry(async () => {
            const res = await this.send({ method: 'HEAD', path: `/v2/${repo}/manifests/${ref}`, scopes: [RegistryClient.scope(repo, ['pull'])], headers: { accept: MANIFEST_ACCEPT } });
            await (0,http/* discard */.vf)(res.body);
            if (res.status === 404)
                return undefined;
            if (res.status !== 200)
                return this.fail(res, `${repo}:${ref}`);
            const digest = (0,http/* header */.wx)(res.headers, 'docker-content-digest');
            if (!digest || !isDigest(digest)) {
                // Some registries omit the digest on HEAD: fall back to a GET.
                const m = await this.getManifest(repo, ref);
                return { digest: m.digest, mediaType: m.mediaType, size: m.size };
            }
            return { digest, mediaType: (0,http/* header */.wx)(res.headers, 'content-type') ?? '', size: Number((0,http/* header */.wx)(res.headers, 'content-length') ?? 0) };
        }, this.retryOpts(`HEAD ${repo}:${ref}`));
    }
    /** GET of a manifest: the exact bytes, verified against the digest asked for or announced. */
    async getManifest(repo, ref) {
        return retry(async () => {
            const res = await this.send({ method: 'GET', path: `/v2/${repo}/manifests/${ref}`, scopes: [RegistryClient.scope(repo, ['pull'])], headers: { accept: MANIFEST_ACCEPT } });
            if (res.status !== 200)
                return this.fail(res, `${repo}:${ref}`);
            const bytes = await (0,http/* readBody */.x8)(res.body, 8 * 1024 * 1024);
            const announced = (0,http/* header */.wx)(res.headers, 'docker-content-digest');
            const expected = isDigest(ref) ? ref : announced && isDigest(announced) ? announced : undefined;
            const actual = digestOf(bytes, expected?.startsWith('sha512:') ? 'sha512' : 'sha256');
            if (expected && expected !== actual)
                throw new RetryableError(`registry ${this.registry}: manifest ${repo}:${ref} does not match its digest (expected ${expected}, got ${actual})`);
            const mediaType = ((0,http/* header */.wx)(res.headers, 'content-type') ?? '').split(';')[0].trim();
            return { digest: expected ?? actual, mediaType, size: bytes.length, bytes };
        }, this.retryOpts(`GET ${repo}:${ref}`));
    }
    /** PUT of a manifest with its own media type; returns the digest the registry stored. */
    async putManifest(repo, ref, bytes, mediaType) {
        return retry(async () => {
            const res = await this.send({
                method: 'PUT',
                path: `/v2/${repo}/manifests/${ref}`,
                scopes: [RegistryClient.scope(repo, ['pull', 'push'])],
                headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
                body: () => bytes,
            });
            if (res.status !== 201 && res.status !== 200)
                return this.fail(res, `${repo}:${ref} (manifest push)`);
            await (0,http/* discard */.vf)(res.body);
            const stored = digestOf(bytes);
            const announced = (0,http/* header */.wx)(res.headers, 'docker-content-digest');
            if (announced && announced !== stored && announced.startsWith('sha256:'))
                throw new Error(`registry ${this.registry}: stored ${repo}:${ref} as ${announced}, expected ${stored}`);
            return stored;
        }, this.retryOpts(`PUT ${repo}:${ref}`));
    }
    /** Tags of a repository, following `Link` pagination. */
    async listTags(repo, pageSize = 1000) {
        const tags = [];
        let path = `/v2/${repo}/tags/list?n=${pageSize}`;
        while (path) {
            const p = path;
            const page = await retry(async () => {
                const res = await this.send({ method: 'GET', path: p, scopes: [RegistryClient.scope(repo, ['pull'])] });
                if (res.status !== 200)
                    return this.fail(res, `${repo} (tag list)`);
                const body = JSON.parse((await (0,http/* readBody */.x8)(res.body, 16 * 1024 * 1024)).toString('utf8'));
                const link = (0,http/* header */.wx)(res.headers, 'link');
                const next = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link)?.[1] : undefined;
                return { tags: body.tags ?? [], next };
            }, this.retryOpts(`tags ${repo}`));
            tags.push(...page.tags);
            path = page.next;
        }
        return tags;
    }
    // ------------------------------------------------------------------ blobs
    async headBlob(repo, digest) {
        return retry(async () => {
            const res = await this.send({ method: 'HEAD', path: `/v2/${repo}/blobs/${digest}`, scopes: [RegistryClient.scope(repo, ['pull'])], redirects: true });
            await (0,http/* discard */.vf)(res.body);
            if (res.status === 404)
                return undefined;
            if (res.status !== 200)
                return this.fail(res, `${repo}@${digest}`);
            return Number((0,http/* header */.wx)(res.headers, 'content-length') ?? 0);
        }, this.retryOpts(`HEAD blob ${digest.slice(0, 19)}`));
    }
    /** A verified stream of a blob: it errors (before ending) if the bytes do not match. */
    async getBlob(repo, digest, size, onBytes) {
        const res = await retry(async () => {
            const r = await this.send({ method: 'GET', path: `/v2/${repo}/blobs/${digest}`, scopes: [RegistryClient.scope(repo, ['pull'])], redirects: true });
            if (r.status !== 200)
                return this.fail(r, `${repo}@${digest}`);
            return r;
        }, this.retryOpts(`GET blob ${digest.slice(0, 19)}`));
        const verifier = new DigestVerifier(digest, size, `${this.registry}/${repo}@${digest}`, onBytes);
        res.body.on('error', (err) => verifier.destroy(err));
        res.body.on('aborted', () => verifier.destroy(Object.assign(new Error(`${this.registry}/${repo}@${digest}: connection closed mid-blob`), { code: 'ECONNRESET' })));
        // A consumer that gives up closes the verifier: let the connection go too.
        verifier.on('close', () => {
            if (!res.body.complete)
                res.body.destroy();
        });
        return res.body.pipe(verifier);
    }
    /** Cross-repository mount within this registry; true when the registry mounted it. */
    async mountBlob(repo, digest, from) {
        return retry(async () => {
            const res = await this.send({
                method: 'POST',
                path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
                scopes: [RegistryClient.scope(repo, ['pull', 'push']), RegistryClient.scope(from, ['pull'])],
                headers: { 'content-length': '0' },
            });
            await (0,http/* discard */.vf)(res.body);
            if (res.status === 201)
                return true;
            if (res.status === 202) {
                // Not mounted: the registry opened an upload session instead; cancel it.
                const loc = (0,http/* header */.wx)(res.headers, 'location');
                if (loc)
                    await this.send({ method: 'DELETE', path: loc, scopes: [RegistryClient.scope(repo, ['pull', 'push'])] }).then((r) => (0,http/* discard */.vf)(r.body), () => undefined);
                return false;
            }
            return this.fail(res, `${repo} (mount ${digest.slice(0, 19)} from ${from})`);
        }, this.retryOpts(`mount ${digest.slice(0, 19)}`));
    }
    async startUpload(repo) {
        const res = await this.send({ method: 'POST', path: `/v2/${repo}/blobs/uploads/`, scopes: [RegistryClient.scope(repo, ['pull', 'push'])], headers: { 'content-length': '0' } });
        await (0,http/* discard */.vf)(res.body);
        if (res.status !== 202)
            return this.fail(res, `${repo} (start upload)`);
        const loc = (0,http/* header */.wx)(res.headers, 'location');
        if (!loc)
            throw new errors/* HttpError */.j$(res.status, `registry ${this.registry}: upload started without a Location`);
        return loc;
    }
    static withDigest(location, digest) {
        return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
    }
    /**
     * Uploads one blob from a stream in a single PUT (POST, then PUT ?digest=). Registries that
     * refuse a monolithic PUT (413/416/405) get the upload again in PATCH chunks: `reopen` gives
     * a fresh stream of the same bytes. Not retried here: the caller restarts from the source.
     */
    async uploadBlob(repo, digest, size, body, reopen) {
        if (this.chunkedOnly)
            return this.uploadChunked(repo, digest, size, body);
        const loc = await this.startUpload(repo);
        const url = new URL(loc, this.base);
        const res = await this.send({
            method: 'PUT',
            path: RegistryClient.withDigest(url.toString(), digest),
            scopes: [RegistryClient.scope(repo, ['pull', 'push'])],
            headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
            body: () => body,
            timeoutMs: 300_000,
        });
        if (res.status === 201)
            return (0,http/* discard */.vf)(res.body);
        if ([405, 413, 416].includes(res.status) && reopen) {
            await (0,http/* discard */.vf)(res.body);
            body.destroy();
            this.chunkedOnly = true;
            (0,log/* debug */.Yz)(`registry ${this.registry}: monolithic upload refused (${res.status}); uploading in chunks`);
            return this.uploadChunked(repo, digest, size, await reopen());
        }
        return this.fail(res, `${repo}@${digest} (blob upload)`);
    }
    /** Chunked upload: PATCH with Content-Range per chunk, then PUT ?digest=. */
    async uploadChunked(repo, digest, size, body) {
        let loc = new URL(await this.startUpload(repo), this.base).toString();
        const chunkSize = this.opts.chunkSize ?? 16 * 1024 * 1024;
        let offset = 0;
        let pending = [];
        let pendingBytes = 0;
        const flush = async () => {
            const data = Buffer.concat(pending);
            pending = [];
            pendingBytes = 0;
            const res = await this.send({
                method: 'PATCH',
                path: loc,
                scopes: [RegistryClient.scope(repo, ['pull', 'push'])],
                headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length), 'content-range': `${offset}-${offset + data.length - 1}` },
                body: () => data,
            });
            if (res.status !== 202)
                return this.fail(res, `${repo}@${digest} (chunk at ${offset})`);
            await (0,http/* discard */.vf)(res.body);
            offset += data.length;
            loc = new URL((0,http/* header */.wx)(res.headers, 'location') ?? loc, this.base).toString();
        };
        for await (const chunk of body) {
            pending.push(chunk);
            pendingBytes += chunk.length;
            if (pendingBytes >= chunkSize)
                await flush();
        }
        if (pendingBytes > 0)
            await flush();
        if (offset !== size)
            throw new Error(`${repo}@${digest}: uploaded ${offset} bytes, expected ${size}`);
        const res = await this.send({ method: 'PUT', path: RegistryClient.withDigest(loc, digest), scopes: [RegistryClient.scope(repo, ['pull', 'push'])], headers: { 'content-length': '0' } });
        if (res.status !== 201)
            return this.fail(res, `${repo}@${digest} (finish chunked upload)`);
        await (0,http/* discard */.vf)(res.body);
    }
    static closeAll() {
        (0,http/* closeAgents */.Z0)();
    }
}

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:stream/promises"
var external_node_stream_promises_ = __webpack_require__(6466);
;// CONCATENATED MODULE: ./src/lib/image/manifest.ts
// The image model shared by every transport: manifests kept as exact bytes, parsed for the
// descriptors they reference; platforms matched and filtered.



/** Reads the media type from the body when the transport did not say (OCI layouts, loose registries). */
function detectMediaType(bytes, announced) {
    const a = announced?.split(';')[0].trim();
    if (a && (isIndexType(a) || isManifestType(a) || a === MEDIA.dockerSchema1))
        return a;
    const j = JSON.parse(bytes.toString('utf8'));
    if (j.mediaType)
        return j.mediaType;
    if (j.schemaVersion === 1)
        return MEDIA.dockerSchema1;
    if (j.manifests)
        return MEDIA.ociIndex;
    if (j.layers)
        return MEDIA.ociManifest;
    return a ?? '';
}
function parseManifest(m, what) {
    if (m.mediaType === MEDIA.dockerSchema1 || m.mediaType.startsWith('application/vnd.docker.distribution.manifest.v1'))
        throw new errors/* UserError */.yo(`${what} is a Docker schema 1 manifest, which is deprecated and not supported; rebuild or re-push it with a current Docker`);
    let j;
    try {
        j = JSON.parse(m.bytes.toString('utf8'));
    }
    catch {
        throw new errors/* UserError */.yo(`${what}: the manifest is not JSON`);
    }
    if (isIndexType(m.mediaType))
        return { kind: 'index', manifests: j.manifests ?? [] };
    if (isManifestType(m.mediaType)) {
        if (!j.config)
            throw new errors/* UserError */.yo(`${what}: image manifest without a config`);
        return { kind: 'image', config: j.config, layers: j.layers ?? [] };
    }
    throw new errors/* UserError */.yo(`${what}: unsupported manifest media type "${m.mediaType}"`);
}
function platformString(p) {
    if (!p)
        return 'unknown';
    return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}
const ARCH_ALIASES = { x86_64: 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm' };
/** Parses `os/arch[/variant]` (`linux/arm64`, `linux/arm/v7`); aliases such as x86_64 are normalised. */
function parsePlatform(s) {
    const parts = s.trim().toLowerCase().split('/');
    if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p)))
        throw new errors/* UserError */.yo(`"${s}" is not a platform (use os/arch[/variant], e.g. linux/amd64, linux/arm64, linux/arm/v7)`);
    const [os, arch, variant] = parts;
    const architecture = ARCH_ALIASES[arch] ?? arch;
    return variant ? { os, architecture, variant } : { os, architecture };
}
/** Whether `have` satisfies `want`; a want without variant matches every variant (arm64 ≡ arm64/v8). */
function platformMatches(have, want) {
    if (!have)
        return false;
    if (have.os !== want.os || (ARCH_ALIASES[have.architecture] ?? have.architecture) !== want.architecture)
        return false;
    if (!want.variant)
        return true;
    const hv = have.variant ?? (have.architecture === 'arm64' ? 'v8' : undefined);
    return hv === want.variant;
}
/**
 * Keeps only the index entries matching one of `platforms`, writing a new index (other fields
 * and entries' annotations kept). Its digest differs from the source's.
 */
function filterIndex(index, platforms) {
    const j = JSON.parse(index.bytes.toString('utf8'));
    const kept = j.manifests.filter((d) => platforms.some((p) => platformMatches(d.platform, p)));
    const bytes = Buffer.from(JSON.stringify({ ...j, manifests: kept }));
    return { manifest: { digest: digestOf(bytes), mediaType: index.mediaType, bytes }, kept };
}

;// CONCATENATED MODULE: ./src/lib/image/oci-layout.ts
// The oci:<dir>[:tag] transport: an OCI image layout on disk. Blobs are written to a temporary
// file and renamed into place only once their digest is verified; index.json is updated
// atomically (write + rename), one writer at a time per directory.









const REF_NAME = 'org.opencontainers.image.ref.name';
function blobPath(dir, digest) {
    return (0,external_node_path_.join)(dir, 'blobs', digestAlgorithm(digest), digestHex(digest));
}
async function readIndex(dir) {
    try {
        return JSON.parse(await (0,promises_.readFile)((0,external_node_path_.join)(dir, 'index.json'), 'utf8'));
    }
    catch (err) {
        if (err.code === 'ENOENT')
            return undefined;
        throw new errors/* UserError */.yo(`${(0,external_node_path_.join)(dir, 'index.json')} is not a valid OCI index: ${err.message}`);
    }
}
const locks = new Map();
function serialized(dir, fn) {
    const prev = locks.get(dir) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    locks.set(dir, next.catch(() => undefined));
    return next;
}
class OciLayoutSource {
    dir;
    tag;
    name;
    constructor(dir, tag) {
        this.dir = dir;
        this.tag = tag;
        this.name = `oci:${dir}${tag ? `:${tag}` : ''}`;
    }
    async entry() {
        const index = await readIndex(this.dir);
        if (!index)
            throw new NotFoundError(`${this.dir}/index.json`);
        const entries = this.tag ? index.manifests.filter((m) => m.annotations?.[REF_NAME] === this.tag) : index.manifests;
        if (entries.length === 0)
            throw new NotFoundError(this.name);
        if (entries.length > 1)
            throw new errors/* UserError */.yo(`${this.name}: ${entries.length} images match; name one with oci:${this.dir}:<tag>`);
        return entries[0];
    }
    async headTop() {
        return (await this.entry()).digest;
    }
    async top() {
        return this.manifest(await this.entry());
    }
    async manifest(desc) {
        const stream = await this.blob(desc);
        const chunks = [];
        for await (const c of stream)
            chunks.push(c);
        const bytes = Buffer.concat(chunks);
        return { digest: desc.digest, mediaType: detectMediaType(bytes, desc.mediaType), bytes };
    }
    async blob(desc, onBytes) {
        const path = blobPath(this.dir, desc.digest);
        try {
            await (0,promises_.stat)(path);
        }
        catch {
            throw new NotFoundError(`${this.name} blob ${desc.digest}`);
        }
        const verifier = new DigestVerifier(desc.digest, desc.size, `${this.name} blob ${desc.digest}`, onBytes);
        const file = (0,external_node_fs_.createReadStream)(path, { highWaterMark: 1024 * 1024 });
        file.on('error', (err) => verifier.destroy(err));
        return file.pipe(verifier);
    }
}
class OciLayoutTarget {
    dir;
    tag;
    name;
    store;
    ready;
    constructor(dir, tag) {
        this.dir = dir;
        this.tag = tag;
        this.name = `oci:${dir}${tag ? `:${tag}` : ''}`;
        this.store = `oci:${dir}`;
    }
    init() {
        return (this.ready ??= (async () => {
            await (0,promises_.mkdir)((0,external_node_path_.join)(this.dir, 'blobs', 'sha256'), { recursive: true });
            await (0,promises_.writeFile)((0,external_node_path_.join)(this.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
            await serialized(this.dir, async () => {
                if (!(await readIndex(this.dir)))
                    await (0,promises_.writeFile)((0,external_node_path_.join)(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] }));
            });
        })());
    }
    async topDigest() {
        const index = await readIndex(this.dir);
        return index?.manifests.find((m) => (this.tag ? m.annotations?.[REF_NAME] === this.tag : true))?.digest;
    }
    async hasBlob(desc) {
        try {
            return (await (0,promises_.stat)(blobPath(this.dir, desc.digest))).size === desc.size;
        }
        catch {
            return false;
        }
    }
    async putBlob(desc, body) {
        await this.init();
        const final = blobPath(this.dir, desc.digest);
        await (0,promises_.mkdir)((0,external_node_path_.join)(this.dir, 'blobs', digestAlgorithm(desc.digest)), { recursive: true });
        const tmp = `${final}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
        try {
            await (0,external_node_stream_promises_.pipeline)(body, new DigestVerifier(desc.digest, desc.size, `${this.name} blob ${desc.digest}`), (0,external_node_fs_.createWriteStream)(tmp));
            await (0,promises_.rename)(tmp, final);
        }
        catch (err) {
            await (0,promises_.rm)(tmp, { force: true });
            throw err;
        }
    }
    async putManifest(m, top) {
        await this.init();
        const path = blobPath(this.dir, m.digest);
        await (0,promises_.writeFile)(`${path}.tmp`, m.bytes);
        await (0,promises_.rename)(`${path}.tmp`, path);
        if (!top)
            return;
        await serialized(this.dir, async () => {
            const index = (await readIndex(this.dir)) ?? { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] };
            const desc = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
            if (this.tag)
                desc.annotations = { [REF_NAME]: this.tag };
            index.manifests = index.manifests.filter((e) => (this.tag ? e.annotations?.[REF_NAME] !== this.tag : e.digest !== m.digest));
            index.manifests.push(desc);
            const tmp = (0,external_node_path_.join)(this.dir, `index.json.${process.pid}.tmp`);
            await (0,promises_.writeFile)(tmp, JSON.stringify(index));
            await (0,promises_.rename)(tmp, (0,external_node_path_.join)(this.dir, 'index.json'));
        });
    }
}

;// CONCATENATED MODULE: ./src/lib/image/registry-transport.ts


class RegistrySource {
    client;
    ref;
    name;
    location;
    constructor(client, ref) {
        this.client = client;
        this.ref = ref;
        this.name = formatReference(ref);
        this.location = { registry: ref.registry, repository: ref.repository };
    }
    async headTop() {
        if (this.ref.digest)
            return this.ref.digest;
        return (await this.client.headManifest(this.ref.repository, referenceTarget(this.ref)))?.digest;
    }
    async top() {
        const m = await this.client.getManifest(this.ref.repository, referenceTarget(this.ref));
        return { digest: m.digest, mediaType: detectMediaType(m.bytes, m.mediaType), bytes: m.bytes };
    }
    async manifest(desc) {
        const m = await this.client.getManifest(this.ref.repository, desc.digest);
        return { digest: m.digest, mediaType: detectMediaType(m.bytes, m.mediaType || desc.mediaType), bytes: m.bytes };
    }
    blob(desc, onBytes) {
        return this.client.getBlob(this.ref.repository, desc.digest, desc.size, onBytes);
    }
}
class RegistryTarget {
    client;
    ref;
    name;
    store;
    location;
    constructor(client, ref) {
        this.client = client;
        this.ref = ref;
        this.name = formatReference(ref);
        this.store = `docker://${ref.registry}`;
        this.location = { registry: ref.registry, repository: ref.repository };
    }
    async topDigest() {
        return (await this.client.headManifest(this.ref.repository, referenceTarget(this.ref)))?.digest;
    }
    async hasBlob(desc) {
        return (await this.client.headBlob(this.ref.repository, desc.digest)) !== undefined;
    }
    mountBlob(desc, from) {
        return this.client.mountBlob(this.ref.repository, desc.digest, from);
    }
    putBlob(desc, body, reopen) {
        return this.client.uploadBlob(this.ref.repository, desc.digest, desc.size, body, reopen);
    }
    async putManifest(m, top) {
        await this.client.putManifest(this.ref.repository, top ? referenceTarget(this.ref) : m.digest, m.bytes, m.mediaType);
    }
}

;// CONCATENATED MODULE: ./src/lib/image/open.ts
// Opens sources and targets from image references, sharing one registry client (and so one
// connection pool and token cache) per registry.



class RegistryPool {
    opts;
    clients = new Map();
    constructor(opts = {}) {
        this.opts = opts;
    }
    client(registry) {
        let c = this.clients.get(registry);
        if (!c)
            this.clients.set(registry, (c = new RegistryClient(registry, this.opts)));
        return c;
    }
    registries() {
        return [...this.clients.keys()];
    }
}
function openSource(ref, pool) {
    return ref.transport === 'docker' ? new RegistrySource(pool.client(ref.ref.registry), ref.ref) : new OciLayoutSource(ref.dir, ref.tag);
}
function openTarget(ref, pool) {
    return ref.transport === 'docker' ? new RegistryTarget(pool.client(ref.ref.registry), ref.ref) : new OciLayoutTarget(ref.dir, ref.tag);
}

// EXTERNAL MODULE: ./src/lib/inputs.ts
var inputs = __webpack_require__(1662);
// EXTERNAL MODULE: ./src/lib/run.ts
var run = __webpack_require__(4114);
;// CONCATENATED MODULE: ./src/lib/sync/plan.ts
// The image list of sync-images: a plain list (one reference per line, # comments) or YAML
// mapping each source to one or more targets with optional tag renames; target prefixes,
// strip-prefix, shards. Every error names the input, the file and the line.







/** `images` is inline text or the path of a file holding it. */
function loadImageList(raw, cwd = process.cwd(), inputName = 'images') {
    const trimmed = raw.trim();
    if (!trimmed)
        throw new errors/* UserError */.yo(`input "${inputName}" is empty: give image references (one per line) or the path of a file holding them`);
    if (!trimmed.includes('\n')) {
        const path = (0,external_node_path_.resolve)(cwd, trimmed);
        if ((0,external_node_fs_.existsSync)(path) && (0,external_node_fs_.statSync)(path).isFile())
            return { text: (0,external_node_fs_.readFileSync)(path, 'utf8'), file: trimmed };
        if (/\.(txt|list|lst|ya?ml)$/i.test(trimmed) || /^\.{0,2}\//.test(trimmed))
            throw new errors/* UserError */.yo(`input "${inputName}": file ${trimmed} was not found`);
        if (!/[:@/]/.test(trimmed))
            throw new errors/* UserError */.yo(`input "${inputName}": there is no file named ${trimmed} (for the image ${trimmed}:latest, write the tag)`);
    }
    return { text: raw };
}
function parseShard(s, inputName = 'shard') {
    if (!s)
        return undefined;
    const m = /^(\d+)\/(\d+)$/.exec(s.trim());
    if (!m)
        throw new errors/* UserError */.yo(`input "${inputName}": "${s}" is not i/n (e.g. 2/4)`);
    const index = Number(m[1]);
    const count = Number(m[2]);
    if (count < 1 || index < 1 || index > count)
        throw new errors/* UserError */.yo(`input "${inputName}": "${s}" is out of range (i must be from 1 to n, and n at least 1)`);
    return { index, count };
}
/** Stable shard of an image: the same image always lands in the same shard for a given n. */
function shardOf(source, count) {
    const h = (0,external_node_crypto_.createHash)('sha256').update(formatReference(source)).digest();
    return (h.readUInt32BE(0) % count) + 1;
}
function parseTargetPrefix(p) {
    const clean = p.trim().replace(/^docker:\/\//, '').replace(/\/+$/, '');
    const [first, ...rest] = clean.split('/');
    if (!first || !looksLikeRegistry(first))
        throw new errors/* UserError */.yo(`input "target": "${p}" must start with a registry host (e.g. registry.example.com/namespace)`);
    for (const c of rest)
        if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/.test(c))
            throw new errors/* UserError */.yo(`input "target": "${p}": "${c}" is not a valid repository component${/[A-Z]/.test(c) ? ' (repository names are lower-case)' : ''}`);
    return { registry: normaliseRegistry(first), namespace: rest.join('/') };
}
function mapTarget(source, prefix, stripPrefix, where, tag) {
    const full = `${source.registry}/${source.repository}`;
    let path = source.repository;
    if (stripPrefix) {
        const sp = stripPrefix.replace(/\/+$/, '');
        if (full.startsWith(`${sp}/`))
            path = full.slice(sp.length + 1);
        else if (source.repository.startsWith(`${sp}/`))
            path = source.repository.slice(sp.length + 1);
        else
            throw new errors/* UserError */.yo(`${where}: ${full} does not start with strip-prefix "${stripPrefix}"`);
    }
    const repository = prefix.namespace ? `${prefix.namespace}/${path}` : path;
    return { registry: prefix.registry, repository, ...(tag ?? source.tag ? { tag: tag ?? source.tag } : {}), ...(!tag && source.digest ? { digest: source.digest } : {}) };
}
function ref(s, where, defaultRegistry) {
    try {
        return parseReference(s, { defaultRegistry });
    }
    catch (err) {
        if (err instanceof ReferenceError)
            throw new errors/* UserError */.yo(`${where}: ${err.message}`);
        throw err;
    }
}
/** Parses the list (plain or YAML) into items: each source with the targets it goes to. */
function buildPlan(list, opts) {
    const inputName = opts.inputName ?? 'images';
    const at = (line) => (list.file ? `${inputName} file ${list.file} line ${line}` : `${inputName} line ${line}`);
    const prefixes = opts.targets.map(parseTargetPrefix);
    const defaultRegistry = opts.sourceRegistry ? normaliseRegistry(opts.sourceRegistry.replace(/^https?:\/\//, '').replace(/\/+$/, '')) : undefined;
    const items = [];
    const withPrefixes = (source, where, tags) => {
        if (prefixes.length === 0)
            throw new errors/* UserError */.yo(`${where}: no target for ${formatReference(source)}: set the "target" input (or map the image to targets in YAML)`);
        return prefixes.flatMap((p) => (tags?.length ? tags : [undefined]).map((t) => mapTarget(source, p, opts.stripPrefix, where, t)));
    };
    const counter = new dist/* LineCounter */.HN();
    // failsafe: every scalar is a string, so tags like 1.0 stay "1.0", not the number 1
    const doc = (0,dist/* parseDocument */.Tp)(list.text, { lineCounter: counter, uniqueKeys: false, schema: 'failsafe' });
    const lineOf = (n) => (n?.range ? counter.linePos(n.range[0]).line : 1);
    const yamlStructured = doc.errors.length === 0 && ((0,dist/* isMap */.jh)(doc.contents) || ((0,dist/* isSeq */.oP)(doc.contents) && doc.contents.items.some((i) => (0,dist/* isMap */.jh)(i))));
    if (!yamlStructured) {
        for (const e of (0,inputs/* listEntries */.fi)(list.text)) {
            const where = at(e.line);
            const source = ref(e.value, where, defaultRegistry);
            items.push({ source, targets: withPrefixes(source, where), where });
        }
    }
    else if ((0,dist/* isMap */.jh)(doc.contents)) {
        for (const pair of doc.contents.items) {
            const keyNode = pair.key;
            const where = at(lineOf(keyNode));
            const source = ref(String((0,dist/* isScalar */.jn)(keyNode) ? keyNode.value : keyNode), where, defaultRegistry);
            items.push({ source, targets: yamlTargets(pair.value, source, where, withPrefixes, lineOf, at), where });
        }
    }
    else if ((0,dist/* isSeq */.oP)(doc.contents)) {
        for (const node of doc.contents.items) {
            const where = at(lineOf(node));
            if (!(0,dist/* isMap */.jh)(node))
                throw new errors/* UserError */.yo(`${where}: expected an entry with "source" and "targets"`);
            const obj = node.toJSON();
            const unknown = Object.keys(obj).filter((k) => !['source', 'target', 'targets', 'tags'].includes(k));
            if (unknown.length)
                throw new errors/* UserError */.yo(`${where}: unknown key ${unknown.map((k) => `"${k}"`).join(', ')} (use source, targets, tags)`);
            if (typeof obj.source !== 'string')
                throw new errors/* UserError */.yo(`${where}: "source" must be an image reference`);
            const source = ref(obj.source, where, defaultRegistry);
            const tags = obj.tags === undefined ? undefined : [].concat(obj.tags).map(String);
            const explicit = obj.targets ?? obj.target;
            const targets = explicit === undefined ? withPrefixes(source, where, tags) : [].concat(explicit).map((t) => ref(String(t), where));
            items.push({ source, targets, where });
        }
    }
    // Same source listed twice: merge. Two sources writing one target: refuse.
    const merged = new Map();
    const writers = new Map();
    for (const it of items) {
        const key = formatReference(it.source);
        const into = merged.get(key) ?? merged.set(key, { ...it, targets: [] }).get(key);
        for (const t of it.targets) {
            const tk = formatReference(t);
            const prev = writers.get(tk);
            if (prev && prev !== key)
                throw new errors/* UserError */.yo(`${it.where}: ${tk} is also the target of ${prev}; one target, one source`);
            writers.set(tk, key);
            if (!into.targets.some((x) => formatReference(x) === tk))
                into.targets.push(t);
        }
    }
    let out = [...merged.values()];
    if (out.length === 0)
        throw new errors/* UserError */.yo(`input "${inputName}" lists no images${list.file ? ` (file ${list.file})` : ''}`);
    if (opts.shard)
        out = out.filter((it) => shardOf(it.source, opts.shard.count) === opts.shard.index);
    return out;
}
function yamlTargets(value, source, where, withPrefixes, lineOf, at) {
    if (value === null || ((0,dist/* isScalar */.jn)(value) && ['', '~', 'null'].includes(String(value.value ?? ''))))
        return withPrefixes(source, where);
    const nodes = (0,dist/* isSeq */.oP)(value) ? value.items : [value];
    const out = [];
    const renames = [];
    for (const n of nodes) {
        const w = at(lineOf(n));
        if (!(0,dist/* isScalar */.jn)(n))
            throw new errors/* UserError */.yo(`${w}: targets must be image references or ":tag" renames`);
        const s = String(n.value).trim();
        if (s.startsWith(':'))
            renames.push(s.slice(1));
        else
            out.push(ref(s, w));
    }
    if (renames.length) {
        for (const t of renames)
            if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(t))
                throw new errors/* UserError */.yo(`${where}: ":${t}" is not a valid tag`);
        out.push(...withPrefixes(source, where, renames));
    }
    return out;
}

;// CONCATENATED MODULE: ./src/lib/concurrency.ts
// Bounded concurrency: a counting semaphore, and a bounded parallel map.
class Semaphore {
    limit;
    active = 0;
    queue = [];
    constructor(limit) {
        this.limit = limit;
        if (limit < 1)
            throw new Error('internal: semaphore limit must be at least 1');
    }
    async run(fn) {
        if (this.active >= this.limit)
            await new Promise((resolve) => this.queue.push(resolve));
        this.active++;
        try {
            return await fn();
        }
        finally {
            this.active--;
            this.queue.shift()?.();
        }
    }
}
/** Runs fn over items with at most `limit` at once; results in input order. */
async function mapLimit(items, limit, fn) {
    const out = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            out[i] = await fn(items[i], i);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return out;
}

;// CONCATENATED MODULE: ./src/lib/image/fanout.ts
// One source stream written to several sinks at once, at the pace of the slowest: memory stays
// bounded whatever the blob size. A sink that fails is dropped; the others go on.

/** Returns, per sink, undefined on success or its error. */
async function fanOut(src, sinks) {
    if (sinks.length === 1) {
        const err = await sinks[0](src).then(() => undefined, (e) => e);
        if (err !== undefined)
            src.destroy();
        return [err];
    }
    const passes = sinks.map(() => new external_node_stream_.PassThrough({ highWaterMark: 1024 * 1024 }).on('error', () => undefined));
    const live = new Set(passes.keys());
    const waiting = new Set();
    const maybeResume = () => {
        if (waiting.size === 0 && src.isPaused())
            src.resume();
    };
    src.on('data', (chunk) => {
        for (const i of live) {
            if (!passes[i].write(chunk) && !waiting.has(i)) {
                waiting.add(i);
                passes[i].once('drain', () => {
                    waiting.delete(i);
                    maybeResume();
                });
            }
        }
        if (waiting.size)
            src.pause();
    });
    src.on('end', () => {
        for (const i of live)
            passes[i].end();
    });
    src.on('error', (err) => {
        for (const i of live)
            passes[i].destroy(err);
    });
    const results = await Promise.all(sinks.map((sink, i) => sink(passes[i]).then(() => undefined, (e) => {
        live.delete(i);
        waiting.delete(i);
        passes[i].destroy();
        if (live.size === 0)
            src.destroy();
        else
            maybeResume();
        return e;
    })));
    return results;
}

;// CONCATENATED MODULE: ./src/lib/image/copy.ts





class Copier {
    opts;
    sem;
    /** `${store}|${repository}|${digest}` known present */
    present = new Set();
    /** `${store}|${digest}` → repositories of that store known to hold it */
    holders = new Map();
    /** `${store}|${digest}` → a transfer in progress */
    inflight = new Map();
    stats = { blobsFetched: 0, blobsMounted: 0, blobsFound: 0, bytesFetched: 0 };
    constructor(opts = {}) {
        this.opts = opts;
        this.sem = new Semaphore(opts.blobConcurrency ?? 8);
    }
    async copy(source, targets, opts = {}) {
        const started = Date.now();
        const result = { source: source.name, platforms: [], bytes: 0, seconds: 0, targets: [] };
        const done = () => ({ ...result, seconds: (Date.now() - started) / 1000 });
        const failAll = (err) => {
            result.sourceError = err;
            result.targets = targets.map((t) => ({ target: t.name, status: 'failed', error: err }));
            return done();
        };
        // 1. Cheap check first: HEAD both sides; identical digests need nothing more.
        let remaining = [...targets];
        const existing = new Map();
        const targetErrors = new Map();
        await Promise.all(remaining.map(async (t) => existing.set(t, await t.topDigest().catch((e) => (targetErrors.set(t, e), undefined)))));
        let srcDigest;
        try {
            srcDigest = opts.platforms ? undefined : await source.headTop();
        }
        catch (err) {
            return failAll(err);
        }
        const settle = (digest) => {
            result.digest = digest;
            for (const t of remaining) {
                if (targetErrors.has(t))
                    result.targets.push({ target: t.name, status: 'failed', error: targetErrors.get(t) });
                else if (existing.get(t) === digest)
                    result.targets.push({ target: t.name, status: 'skipped' });
            }
            remaining = remaining.filter((t) => !targetErrors.has(t) && existing.get(t) !== digest);
        };
        if (srcDigest) {
            settle(srcDigest);
            if (remaining.length === 0)
                return done();
        }
        // 2. Read the source: top manifest, platform filter, children, the blobs they need.
        let plan;
        try {
            plan = await this.plan(source, opts.platforms);
        }
        catch (err) {
            return failAll(err);
        }
        result.platforms = plan.platforms;
        if (!srcDigest || plan.top.digest !== srcDigest) {
            result.targets = [];
            remaining = [...targets];
            settle(plan.top.digest);
        }
        if (remaining.length === 0)
            return done();
        if (opts.dryRun) {
            for (const t of remaining)
                result.targets.push({ target: t.name, status: 'would-copy' });
            return done();
        }
        // 3. Blobs, each fetched once for every target that lacks it.
        const failed = new Map();
        await Promise.all(plan.blobs.map(async (b) => {
            const live = remaining.filter((t) => !failed.has(t));
            if (live.length === 0)
                return;
            const errs = await this.ensureBlob(b, source, live, (n) => (result.bytes += n));
            for (const [t, e] of errs)
                if (!failed.has(t))
                    failed.set(t, e);
        }));
        // 4. Manifests: children by digest, then the top one under the tag.
        await Promise.all(remaining.map(async (t) => {
            if (failed.has(t)) {
                result.targets.push({ target: t.name, status: 'failed', error: failed.get(t) });
                return;
            }
            try {
                for (const child of plan.children)
                    await t.putManifest(child, false);
                await t.putManifest(plan.top, true);
                result.targets.push({ target: t.name, status: 'copied' });
            }
            catch (err) {
                result.targets.push({ target: t.name, status: 'failed', error: err });
            }
        }));
        return done();
    }
    async plan(source, platforms) {
        let top = await source.top();
        const parsed = parseManifest(top, source.name);
        const children = [];
        const blobs = new Map();
        const names = [];
        const addImage = (m, what) => {
            const p = parseManifest(m, what);
            if (p.kind !== 'image')
                throw new errors/* UserError */.yo(`${what}: nested indexes are not supported`);
            for (const d of [p.config, ...p.layers]) {
                if (d.urls?.length && d.mediaType.includes('foreign'))
                    continue; // non-distributable layers stay where they are
                blobs.set(d.digest, d);
            }
        };
        if (parsed.kind === 'index') {
            let entries = parsed.manifests;
            if (platforms) {
                const f = filterIndex(top, platforms);
                if (f.kept.length === 0)
                    throw new errors/* UserError */.yo(`${source.name}: none of its platforms (${parsed.manifests.map((d) => platformString(d.platform)).join(', ')}) matches ${platforms.map(platformString).join(', ')}`);
                top = f.manifest;
                entries = f.kept;
            }
            for (const d of entries) {
                const child = await source.manifest(d);
                addImage(child, `${source.name}@${d.digest}`);
                children.push(child);
                names.push(platformString(d.platform));
            }
        }
        else {
            addImage(top, source.name);
            const config = await source.blob(parsed.config);
            const chunks = [];
            for await (const c of config)
                chunks.push(c);
            const cfg = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            names.push(cfg.os && cfg.architecture ? platformString(cfg) : 'unknown');
        }
        return { top, children, blobs: [...blobs.values()], platforms: names };
    }
    key(t, digest) {
        return `${t.store}|${t.location?.repository ?? ''}|${digest}`;
    }
    markPresent(t, digest) {
        this.present.add(this.key(t, digest));
        if (t.location) {
            const hk = `${t.store}|${digest}`;
            let set = this.holders.get(hk);
            if (!set)
                this.holders.set(hk, (set = new Set()));
            set.add(t.location.repository);
        }
    }
    /** Present already, found by HEAD, or mounted from a repository of the same registry. */
    async satisfy(t, d, source) {
        if (this.present.has(this.key(t, d.digest)))
            return true;
        const sk = `${t.store}|${d.digest}`;
        const pending = this.inflight.get(sk);
        if (pending) {
            await pending.catch(() => undefined);
            if (this.present.has(this.key(t, d.digest)))
                return true;
        }
        if (t.mountBlob && t.location) {
            const candidates = new Set(this.holders.get(sk) ?? []);
            if (source.location && `docker://${source.location.registry}` === t.store)
                candidates.add(source.location.repository);
            candidates.delete(t.location.repository);
            for (const from of [...candidates].slice(0, 2)) {
                if (await t.mountBlob(d, from)) {
                    this.stats.blobsMounted++;
                    this.markPresent(t, d.digest);
                    return true;
                }
            }
        }
        if (await t.hasBlob(d)) {
            this.stats.blobsFound++;
            this.markPresent(t, d.digest);
            return true;
        }
        return false;
    }
    /** Makes one blob present in every target; returns the targets that failed, with why. */
    ensureBlob(d, source, targets, onBytes) {
        return this.sem.run(async () => {
            const errors = new Map();
            const need = [];
            await Promise.all(targets.map(async (t) => {
                try {
                    if (!(await this.satisfy(t, d, source)))
                        need.push(t);
                }
                catch (err) {
                    errors.set(t, err);
                }
            }));
            if (need.length === 0)
                return errors;
            let release;
            const gate = new Promise((r) => (release = r));
            const stores = [...new Set(need.map((t) => `${t.store}|${d.digest}`))];
            for (const s of stores)
                this.inflight.set(s, gate);
            try {
                for (const [t, e] of await this.transfer(d, source, need, onBytes))
                    errors.set(t, e);
            }
            finally {
                for (const s of stores)
                    if (this.inflight.get(s) === gate)
                        this.inflight.delete(s);
                release();
            }
            return errors;
        });
    }
    /** Fetches a blob once and streams it to every target; failed targets get fresh attempts. */
    async transfer(d, source, targets, onBytes) {
        const attempts = this.opts.attempts ?? 5;
        const errors = new Map();
        let pending = targets;
        for (let attempt = 1; pending.length > 0; attempt++) {
            let src;
            try {
                src = await source.blob(d, (n) => {
                    this.stats.bytesFetched += n;
                    onBytes(n);
                    this.opts.onBytes?.(n);
                });
            }
            catch (err) {
                if (attempt >= attempts || !isRetryable(err)) {
                    for (const t of pending)
                        errors.set(t, err);
                    break;
                }
                await sleep(backoffDelay(attempt, 250, 10_000, this.opts.random ?? Math.random));
                continue;
            }
            this.stats.blobsFetched++;
            // Its consumer may not be attached yet when it fails; the consumer sees `errored`.
            src.on('error', () => undefined);
            const results = await fanOut(src, pending.map((t) => (body) => t.putBlob(d, body, () => source.blob(d))));
            const next = [];
            results.forEach((err, i) => {
                const t = pending[i];
                if (err === undefined)
                    this.markPresent(t, d.digest);
                else if (attempt < attempts && isRetryable(err))
                    next.push(t);
                else
                    errors.set(t, err);
            });
            pending = next;
            if (pending.length)
                await sleep(backoffDelay(attempt, 250, 10_000, this.opts.random ?? Math.random));
        }
        return errors;
    }
}

;// CONCATENATED MODULE: ./src/lib/sync/run.ts
// Runs a sync plan: images copied in parallel (bounded), blobs shared across the whole run,
// results classified for the report and the successors of miss_image.txt/miss_push_image.txt.






function classify(item, r) {
    const targets = r.targets.map((t) => ({ target: t.target, result: t.status, ...(t.error !== undefined ? { error: (0,errors/* errorMessage */.gJ)(t.error) } : {}) }));
    let result;
    // Any pull-side failure (not found, denied, unreachable) is a missing source, as in miss_image.txt.
    if (r.sourceError !== undefined)
        result = 'missing-source';
    else if (r.targets.some((t) => t.status === 'failed'))
        result = 'failed';
    else if (r.targets.every((t) => t.status === 'skipped'))
        result = 'skipped';
    else if (r.targets.some((t) => t.status === 'would-copy'))
        result = 'would-sync';
    else
        result = 'synced';
    return {
        source: formatReference(item.source),
        result,
        digest: r.digest,
        platforms: r.platforms,
        bytes: r.bytes,
        seconds: Math.round(r.seconds * 1000) / 1000,
        targets,
        ...(r.sourceError !== undefined ? { error: (0,errors/* errorMessage */.gJ)(r.sourceError) } : {}),
    };
}
async function runSync(opts) {
    const progress = new log/* Progress */.ke({ label: opts.dryRun ? 'sync (dry run)' : 'sync', totalItems: opts.items.length, itemName: 'images', intervalMs: opts.progressIntervalMs });
    const copier = new Copier({ blobConcurrency: opts.blobConcurrency, onBytes: (n) => progress.add({ bytes: n }) });
    let stop = false;
    const entries = await mapLimit(opts.items, opts.concurrency, async (item) => {
        if (stop)
            return { source: formatReference(item.source), result: 'not-attempted', platforms: [], bytes: 0, seconds: 0, targets: [] };
        const source = openSource({ transport: 'docker', ref: item.source }, opts.pool);
        const targets = item.targets.map((t) => openTarget({ transport: 'docker', ref: t }, opts.pool));
        const r = await copier.copy(source, targets, { platforms: opts.platforms, dryRun: opts.dryRun });
        const entry = classify(item, r);
        progress.add({ items: 1 });
        if (entry.result === 'missing-source' || entry.result === 'failed') {
            const why = entry.error ?? entry.targets.filter((t) => t.error).map((t) => `${t.target}: ${t.error}`).join('; ');
            (0,log/* warning */.$e)(`${entry.source}: ${entry.result === 'missing-source' ? 'source unavailable' : 'failed'}: ${why}`);
            if (opts.failFast)
                stop = true;
        }
        return entry;
    });
    progress.done();
    const count = (r) => entries.filter((e) => e.result === r).length;
    return {
        entries,
        synced: count('synced'),
        skipped: count('skipped'),
        failed: count('failed') + count('missing-source') + count('not-attempted'),
        missingSource: entries.filter((e) => e.result === 'missing-source').map((e) => e.source),
        failedPush: entries.filter((e) => e.result === 'failed' || e.result === 'not-attempted').map((e) => e.source),
        bytes: copier.stats.bytesFetched,
        blobsFetched: copier.stats.blobsFetched,
        blobsMounted: copier.stats.blobsMounted,
        blobsFound: copier.stats.blobsFound,
    };
}

;// CONCATENATED MODULE: ./src/actions/sync-images/index.ts
// sync-images: copy an image list between registries, every platform, digests preserved.












/* harmony default export */ const sync_images = ((0,run/* defineAction */.QP)({
    name: 'sync-images',
    inputs: {
        images: inputs/* input */.hF.text(),
        'source-registry': inputs/* input */.hF.string(),
        target: inputs/* input */.hF.list(),
        'strip-prefix': inputs/* input */.hF.string(),
        platforms: inputs/* input */.hF.list(),
        concurrency: inputs/* input */.hF.integer({ min: 1, max: 64 }),
        'blob-concurrency': inputs/* input */.hF.integer({ min: 1, max: 128 }),
        'dry-run': inputs/* input */.hF.boolean(),
        'fail-fast': inputs/* input */.hF.boolean(),
        shard: inputs/* input */.hF.string({ pattern: /^\d+\/\d+$/, hint: 'i/n, e.g. 2/4' }),
        'registry-auth': inputs/* input */.hF.text({ secret: true }),
        'insecure-registries': inputs/* input */.hF.list(),
        'output-dir': inputs/* input */.hF.string(),
    },
    async main({ inputs, setOutput }) {
        const auth = parseRegistryAuth(inputs.registryAuth);
        const platforms = inputs.platforms.length === 0 || inputs.platforms.some((p) => p.toLowerCase() === 'all') ? undefined : inputs.platforms.map((p) => wrapInput('platforms', () => parsePlatform(p)));
        const items = buildPlan(loadImageList(inputs.images), {
            sourceRegistry: inputs.sourceRegistry,
            targets: inputs.target,
            stripPrefix: inputs.stripPrefix,
            shard: parseShard(inputs.shard),
        });
        const used = new Set(items.flatMap((i) => [i.source.registry, ...i.targets.map((t) => t.registry)]));
        for (const a of auth)
            if (!used.has(a.registry))
                (0,log/* warning */.$e)(`registry-auth names ${a.registry}, which no image of this run uses`);
        (0,log/* info */.pq)(`sync-images: ${items.length} images → ${items.reduce((n, i) => n + i.targets.length, 0)} targets${platforms ? ` (platforms ${inputs.platforms.join(', ')})` : ' (every platform)'}${inputs.dryRun ? ', dry run' : ''}`);
        const pool = new RegistryPool({ credentials: credentialChain(auth), insecureRegistries: inputs.insecureRegistries });
        const report = await runSync({ items, pool, concurrency: inputs.concurrency, blobConcurrency: inputs.blobConcurrency, platforms, dryRun: inputs.dryRun, failFast: inputs.failFast });
        const dir = (0,external_node_path_.resolve)(inputs.outputDir || (process.env.RUNNER_TEMP ? (0,external_node_path_.join)(process.env.RUNNER_TEMP, 'airlift') : 'airlift-output'));
        await (0,promises_.mkdir)(dir, { recursive: true });
        const files = { missing: (0,external_node_path_.join)(dir, 'missing-source.txt'), failed: (0,external_node_path_.join)(dir, 'failed-push.txt'), report: (0,external_node_path_.join)(dir, 'sync-report.json') };
        await (0,promises_.writeFile)(files.missing, report.missingSource.map((s) => `${s}\n`).join(''));
        await (0,promises_.writeFile)(files.failed, report.failedPush.map((s) => `${s}\n`).join(''));
        await (0,promises_.writeFile)(files.report, JSON.stringify({ ...report, entries: report.entries }, null, 2) + '\n');
        setOutput('synced', report.synced);
        setOutput('skipped', report.skipped);
        setOutput('failed', report.failed);
        setOutput('missing-source', files.missing);
        setOutput('failed-push', files.failed);
        setOutput('report', files.report);
        log/* summary */.z.heading(`sync-images: ${report.synced} synced, ${report.skipped} up to date, ${report.failed} failed`);
        const rows = report.entries.slice(0, 200).map((e) => [e.source, e.result, e.platforms.join(', '), (0,format/* formatBytes */.z3)(e.bytes), `${e.seconds}s`, e.digest?.slice(0, 19) ?? '']);
        log/* summary */.z.table(['image', 'result', 'platforms', 'fetched', 'time', 'digest'], rows);
        if (report.entries.length > 200)
            log/* summary */.z.text(`… and ${report.entries.length - 200} more images: see ${files.report}`);
        log/* summary */.z.text(`Blobs: ${report.blobsFetched} fetched (${(0,format/* formatBytes */.z3)(report.bytes)}), ${report.blobsMounted} mounted, ${report.blobsFound} already present.`);
        if (report.failed > 0) {
            const first = report.entries.find((e) => e.result !== 'synced' && e.result !== 'skipped' && e.result !== 'would-sync');
            const why = first?.error ?? first?.targets.find((t) => t.error)?.error ?? first?.result;
            throw new errors/* UserError */.yo(`${report.failed} of ${items.length} images failed (${report.missingSource.length} with an unavailable source); first: ${first ? `${first.source}: ${why}` : '?'}. Lists to retry: ${files.missing}, ${files.failed}`);
        }
        if (!inputs.dryRun)
            (0,log/* info */.pq)(`sync-images: done; every digest matches its source${platforms ? ' (filtered indexes are new digests)' : ''}`);
    },
}));
function wrapInput(name, fn) {
    try {
        return fn();
    }
    catch (err) {
        if (err instanceof errors/* UserError */.yo)
            throw new errors/* UserError */.yo(`input "${name}": ${err.message}`);
        throw err;
    }
}


/***/ })

};
