// byokit/daemon: a Node client of byokd, the local byokit daemon, for Electron and Node desktop
// apps. It speaks byokd's JSON-RPC protocol (docs/protocol.md) over its local socket (a Unix
// socket; on Windows a named pipe, which `net.connect` opens by its path too); arguments
// and results use camelCase keys like the rest of the package, money stays a decimal string.
// It reads byokd's lines by the rules of the core's client codec (byokit_core::protocol::client),
// tested on the same cases (tests/fixtures/jsonrpc/cases.json); an error's kind is decided by that
// codec itself, compiled to WebAssembly (`daemonErrorKind`), in one place for every client.
import net from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { daemonErrorKind } from './node/byokit.js';
import { camelKey, toCamel, toSnake } from './keys.js';

/** The largest request line byokd reads (newline not counted): 1 MiB. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** How long a call waits for byokd's next line for it, unless told otherwise. */
export const DEFAULT_READ_TIMEOUT_MS = 60_000;
/**
 * How long a call that waits for a provider (`chat`, `config.test`) waits, unless told
 * otherwise: byokd's own limit for a provider call and its retries (600 s) and a minute.
 */
export const DEFAULT_PROVIDER_READ_TIMEOUT_MS = 660_000;
const PROVIDER_METHODS = new Set(['chat', 'config.test']);
const INVALID_REQUEST = -32600;



function daemonError(kind, message, extra = {}) {
  const e = new Error(message);
  e.kind = kind;
  Object.assign(e, extra);
  return e;
}

/**
 * The kinds these failures have always had in byokit, kept: a request byokd cannot read is
 * `invalidInput` and a key without its provider's format `invalidKey`, as elsewhere in the
 * package. byokd's own kind stays in `e.data.kind`.
 */
const KEPT_KINDS = { parseError: 'invalidInput', invalidRequest: 'invalidInput', invalidParams: 'invalidInput', badKey: 'invalidKey' };

/** byokd's error (`{kind: {kind, …data}, message}`, as the codec reads it) as an `Error`. */
function rpcError({ kind, message }, code) {
  const name = camelKey(kind.kind);
  return daemonError(KEPT_KINDS[name] ?? name, message, {
    code, data: toCamel(kind), retryAfterSeconds: kind.retry_after_seconds ?? undefined,
  });
}

const malformed = (why) => daemonError('malformedResponse', `byokd sent a line that is not JSON-RPC: ${why}`);

/**
 * A request line (`{"jsonrpc":"2.0","id":…,"method":…,"params":…}` and a newline), or a
 * `tooLarge` error when it would be over byokd's limit: such a request is never sent (byokd
 * would skip it and answer an error without an id).
 */
export function encodeRequest(id, method, params) {
  const line = JSON.stringify({ jsonrpc: '2.0', id, method, params });
  const bytes = Buffer.byteLength(line, 'utf8');
  if (bytes > MAX_MESSAGE_BYTES) {
    throw daemonError('tooLarge',
      `the ${method} request is ${bytes} bytes, over byokd's limit of ${MAX_MESSAGE_BYTES} bytes; it was not sent`,
      { code: INVALID_REQUEST, data: { kind: 'too_large', limitBytes: MAX_MESSAGE_BYTES } });
  }
  return `${line}\n`;
}

/**
 * One line from byokd, read by the core codec's rules: `{type: 'reply', id, result}`,
 * `{type: 'error_reply', id, error: {kind, message}}` (`id` null: the oldest call waiting
 * failed) or `{type: 'notification', method, params}`, keys as the protocol writes them. A line
 * that is none of these throws an `Error` of kind `malformedResponse`.
 */
export function decodeLine(line) {
  return read(line)[0];
}

/** {@link decodeLine}, and an error's JSON-RPC code. */
function read(line) {
  let message;
  try {
    message = JSON.parse(line);
  } catch (e) {
    throw malformed(`not JSON: ${e.message}`);
  }
  if (message === null || typeof message !== 'object' || Array.isArray(message)) throw malformed('not an object');
  const id = message.id ?? null;
  if (id !== null && !(Number.isSafeInteger(id) && id >= 0)) throw malformed("an id that is not a call's");
  if ('error' in message) {
    const { error } = message;
    if (error === null || typeof error !== 'object' || Array.isArray(error)) throw malformed('an error that is not an object');
    if (!Number.isSafeInteger(error.code) || typeof error.message !== 'string') {
      throw malformed('an error without an integer code and a message');
    }
    // Its kind (from its data, else its code) is the core codec's to decide.
    const data = error.data === undefined ? undefined : JSON.stringify(error.data);
    return [{ type: 'error_reply', id, error: { kind: daemonErrorKind(error.code, data), message: error.message } }, error.code];
  }
  if ('result' in message) {
    if (id === null) throw malformed('a result without an id');
    return [{ type: 'reply', id, result: message.result }];
  }
  if ('method' in message) {
    if ('id' in message) throw malformed('a request from byokd');
    if (typeof message.method !== 'string') throw malformed('a method that is not a string');
    return [{ type: 'notification', method: message.method, params: message.params ?? null }];
  }
  throw malformed('neither a result, an error nor a notification');
}

/**
 * The socket byokd listens on by default: `$BYOKIT_SOCKET`, else
 * `$XDG_RUNTIME_DIR/byokit/byokd.sock`, else `byokd.sock` in the data directory
 * (`$BYOKIT_DATA_DIR`, `$XDG_DATA_HOME/byokit` or `~/.local/share/byokit`). On Windows
 * (`platform` `win32`), the named pipe `\\.\pipe\byokit-%USERNAME%` (a `\` in the name as `_`),
 * the core's rule (`default_socket_windows`).
 */
export function defaultSocketPath(env = process.env, platform = process.platform) {
  if (env.BYOKIT_SOCKET) return env.BYOKIT_SOCKET;
  if (platform === 'win32') {
    return env.USERNAME ? `\\\\.\\pipe\\byokit-${env.USERNAME.replaceAll('\\', '_')}` : '\\\\.\\pipe\\byokit';
  }
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'byokit', 'byokd.sock');
  if (env.BYOKIT_DATA_DIR) return join(env.BYOKIT_DATA_DIR, 'byokd.sock');
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'byokit', 'byokd.sock');
  return join(homedir(), '.local', 'share', 'byokit', 'byokd.sock');
}

/**
 * A connection to byokd. Calls may overlap; each gets its own reply. A call never waits
 * forever: a request over byokd's 1 MiB limit is refused before it is sent (`tooLarge`), an
 * error reply without an id (byokd's answer to a line it could not read) fails the oldest call
 * waiting, and a call for which byokd sends nothing (no reply, no notification) for its read
 * timeout fails with `daemonUnreachable`.
 */
export class DaemonClient {
  #socket;
  #buffer = '';
  #nextId = 1;
  #pending = new Map();
  #closed = null;
  #readTimeoutMs;
  #providerReadTimeoutMs;

  /**
   * Connects to byokd on `socketPath` (default: {@link defaultSocketPath}). `readTimeoutMs`
   * (default 60 s) and `providerReadTimeoutMs` (for `chat` and `config.test`, default 11 min)
   * bound how long a call waits for byokd's next line for it.
   */
  static connect(socketPath = defaultSocketPath(), options = {}) {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(socketPath);
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(new DaemonClient(socket, socketPath, options));
      });
      socket.once('error', (e) => reject(daemonError('daemonUnreachable', `cannot reach byokd at ${socketPath}: ${e.message}`, { cause: e })));
    });
  }

  constructor(socket, socketPath, { readTimeoutMs = DEFAULT_READ_TIMEOUT_MS, providerReadTimeoutMs = DEFAULT_PROVIDER_READ_TIMEOUT_MS } = {}) {
    this.socketPath = socketPath;
    this.#socket = socket;
    this.#readTimeoutMs = readTimeoutMs;
    this.#providerReadTimeoutMs = providerReadTimeoutMs;
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => this.#receive(chunk));
    const fail = (why) => {
      this.#closed = daemonError('daemonUnreachable', `byokd at ${socketPath}: ${why}`);
      for (const call of [...this.#pending.values()]) this.#settle(call, this.#closed);
    };
    socket.on('error', (e) => fail(e.message));
    socket.on('close', () => fail('the connection closed'));
  }

  /** Ends a call with its result, or with `error`. */
  #settle(call, error, result) {
    clearTimeout(call.timer);
    this.#pending.delete(call.id);
    if (error) call.reject(error);
    else call.resolve(result);
  }

  /** (Re)starts a call's wait for byokd's next line for it. */
  #arm(call) {
    clearTimeout(call.timer);
    call.timer = setTimeout(() => this.#settle(call, daemonError('daemonUnreachable',
      `byokd at ${this.socketPath}: no reply within ${call.timeoutMs / 1000} s`)), call.timeoutMs);
  }

  /** The oldest call still waiting. */
  #oldest() {
    return this.#pending.values().next().value;
  }

  #receive(chunk) {
    this.#buffer += chunk;
    let newline;
    while ((newline = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, newline);
      this.#buffer = this.#buffer.slice(newline + 1);
      if (!line.trim()) continue;
      let message;
      let code;
      try {
        [message, code] = read(line);
      } catch (e) {
        // Not a line of byokd's: no call can be told by it, so the oldest fails rather than wait.
        const call = this.#oldest();
        if (call) this.#settle(call, e);
        continue;
      }
      if (message.type === 'notification') {
        // A notification, such as a streaming chat's `chat.delta`: its call waits afresh.
        const call = this.#pending.get(message.params?.id);
        if (call) {
          this.#arm(call);
          call.onNotification?.(message.method, message.params);
        }
        continue;
      }
      // An error without an id answers the oldest call waiting; a reply to no call waiting (one
      // that timed out) is passed over.
      const call = message.id === null ? this.#oldest() : this.#pending.get(message.id);
      if (!call) continue;
      if (message.type === 'error_reply') {
        this.#settle(call, rpcError(message.error, code));
      } else {
        this.#settle(call, null, message.result);
      }
    }
  }

  /**
   * Calls any method with parameters in camelCase; resolves to its result in camelCase.
   * `onNotification(method, params)` receives the notifications that belong to the call.
   */
  async call(method, params = {}, { onNotification } = {}) {
    return toCamel(await this.callRaw(method, toSnake(params), { onNotification }));
  }

  /** Calls a method with the protocol's own (snake_case) parameters and result. */
  callRaw(method, params = {}, { onNotification } = {}) {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    let line;
    try {
      line = encodeRequest(id, method, params);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      const timeoutMs = PROVIDER_METHODS.has(method) ? this.#providerReadTimeoutMs : this.#readTimeoutMs;
      const call = { id, resolve, reject, onNotification, timeoutMs, timer: undefined };
      this.#pending.set(id, call);
      this.#arm(call);
      this.#socket.write(line);
    });
  }

  /** Closes the connection. */
  close() {
    this.#socket.end();
  }

  /** Stores a key (encrypted); it becomes the active configuration. The reply shows it masked. */
  configSave({ user, provider, apiKey, model, baseUrl, add }) {
    return this.call('config.save', { user, provider, apiKey, model, baseUrl, add });
  }

  /** `{active, configs}`: the user's configurations, keys masked, newest first. */
  configGet({ user } = {}) {
    return this.call('config.get', { user });
  }

  /** Deletes one key (`keyId`), a provider's keys, or the active configuration; usage stays. */
  configDelete({ user, provider, keyId } = {}) {
    return this.call('config.delete', { user, provider, keyId });
  }

  /** Asks the provider whether the stored key works: `{provider, outcome, message, models}`. */
  configTest({ user, provider, keyId } = {}) {
    return this.call('config.test', { user, provider, keyId });
  }

  /** Records one call's usage; byokd prices it and answers once it is durable. */
  usageRecord(record) {
    return this.call('usage.record', record);
  }

  /** The user's usage over the last `days` days (default 30). */
  usageSummary({ user, days } = {}) {
    return this.call('usage.summary', { user, days });
  }

  /** Who would serve and pay for a call, and why. */
  route({ user, feature, model, estimatedTokens } = {}) {
    return this.call('route', { user, feature, model, estimatedTokens });
  }

  /**
   * Has byokd make a chat call with the stored key and record its usage. With `onDelta`, the
   * reply streams: each text delta is passed to it as it arrives.
   */
  chat({ onDelta, ...request }) {
    const stream = typeof onDelta === 'function';
    return this.call('chat', { ...request, stream }, {
      onNotification: stream ? (method, params) => method === 'chat.delta' && onDelta(params.text) : undefined,
    });
  }

  /** The user's fallback providers and per-feature models. */
  routingGet({ user } = {}) {
    return this.call('routing.get', { user });
  }

  /** Replaces them: `{fallbackChain?: [provider], featureModels?: {feature: {provider, model}}}`. */
  routingSet({ user, fallbackChain = [], featureModels = {} }) {
    return this.call('routing.set', { user, fallbackChain, featureModels });
  }

  /** The user's budget and where it stands this month; `null` without a budget. */
  budgetGet({ user } = {}) {
    return this.call('budget.get', { user });
  }

  /** Sets the user's monthly budget: `{monthlyLimitUsd, policy?, alertThresholds?}`. */
  budgetSet({ user, monthlyLimitUsd, policy, alertThresholds }) {
    return this.call('budget.set', { user, monthlyLimitUsd, policy, alertThresholds });
  }

  /** The budget alerts that have fired. */
  alertsList({ user } = {}) {
    return this.call('alerts.list', { user });
  }

  /** byokd's version, pid, uptime, socket, data directory and catalog version. */
  status() {
    return this.call('daemon.status', {});
  }
}

/** Connects to byokd; the same as {@link DaemonClient.connect}. */
export const connect = (socketPath, options) => DaemonClient.connect(socketPath, options);
