// byokit/daemon: a Node client of byokd, the local byokit daemon, for Electron and Node desktop
// apps. It speaks byokd's JSON-RPC protocol (docs/protocol.md) over its Unix socket; arguments
// and results use camelCase keys like the rest of the package, money stays a decimal string.
import net from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Objects whose keys are data (providers, features, `provider/model`), not field names. */
const DATA_MAPS = new Set(['by_provider', 'by_feature', 'by_model', 'by_payer', 'feature_models',
  'byProvider', 'byFeature', 'byModel', 'byPayer', 'featureModels']);

const camelKey = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const snakeKey = (k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function convert(value, key) {
  if (Array.isArray(value)) return value.map((v) => convert(v, key));
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const name = key(k);
    out[name] = DATA_MAPS.has(k) && v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).map(([dk, dv]) => [dk, convert(dv, key)]))
      : convert(v, key);
  }
  return out;
}

const toCamel = (v) => convert(v, camelKey);
const toSnake = (v) => convert(v, snakeKey);

/** Error kinds by JSON-RPC code, where the error has no `data.kind`. */
const KINDS = {
  [-32700]: 'invalidInput', [-32600]: 'invalidInput', [-32601]: 'methodNotFound', [-32602]: 'invalidInput',
  [-32603]: 'internal', [-32001]: 'invalidKey', [-32002]: 'notFound', [-32003]: 'refused',
  [-32004]: 'providerError', [-32005]: 'unreachable',
};

function daemonError(kind, message, extra = {}) {
  const e = new Error(message);
  e.kind = kind;
  Object.assign(e, extra);
  return e;
}

/**
 * The socket byokd listens on by default: `$BYOKIT_SOCKET`, else
 * `$XDG_RUNTIME_DIR/byokit/byokd.sock`, else `byokd.sock` in the data directory
 * (`$BYOKIT_DATA_DIR`, `$XDG_DATA_HOME/byokit` or `~/.local/share/byokit`).
 */
export function defaultSocketPath(env = process.env) {
  if (env.BYOKIT_SOCKET) return env.BYOKIT_SOCKET;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'byokit', 'byokd.sock');
  if (env.BYOKIT_DATA_DIR) return join(env.BYOKIT_DATA_DIR, 'byokd.sock');
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'byokit', 'byokd.sock');
  return join(homedir(), '.local', 'share', 'byokit', 'byokd.sock');
}

/** A connection to byokd. Calls may overlap; each gets its own reply. */
export class DaemonClient {
  #socket;
  #buffer = '';
  #nextId = 1;
  #pending = new Map();
  #closed = null;

  /** Connects to byokd on `socketPath` (default: {@link defaultSocketPath}). */
  static connect(socketPath = defaultSocketPath()) {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(socketPath);
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(new DaemonClient(socket, socketPath));
      });
      socket.once('error', (e) => reject(daemonError('daemonUnreachable', `cannot reach byokd at ${socketPath}: ${e.message}`, { cause: e })));
    });
  }

  constructor(socket, socketPath) {
    this.socketPath = socketPath;
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => this.#receive(chunk));
    const fail = (why) => {
      this.#closed = daemonError('daemonUnreachable', `byokd at ${socketPath}: ${why}`);
      for (const { reject } of this.#pending.values()) reject(this.#closed);
      this.#pending.clear();
    };
    socket.on('error', (e) => fail(e.message));
    socket.on('close', () => fail('the connection closed'));
  }

  #receive(chunk) {
    this.#buffer += chunk;
    let newline;
    while ((newline = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, newline);
      this.#buffer = this.#buffer.slice(newline + 1);
      if (!line.trim()) continue;
      let message;
      try {
        message = JSON.parse(line);
      } catch {
        continue;
      }
      if (message.id === undefined || message.id === null) {
        // A notification, such as a streaming chat's `chat.delta`.
        const call = this.#pending.get(message.params?.id);
        call?.onNotification?.(message.method, message.params);
        continue;
      }
      const call = this.#pending.get(message.id);
      if (!call) continue;
      this.#pending.delete(message.id);
      if (message.error) {
        const { code, message: text, data } = message.error;
        const kind = data?.kind ? camelKey(data.kind) : (KINDS[code] ?? 'daemon');
        call.reject(daemonError(kind, text, { code, data: toCamel(data ?? null), retryAfterSeconds: data?.retry_after_seconds ?? undefined }));
      } else {
        call.resolve(message.result);
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
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onNotification });
      this.#socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
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
export const connect = (socketPath) => DaemonClient.connect(socketPath);
