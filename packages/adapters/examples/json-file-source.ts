import { readFile } from 'node:fs/promises';
import {
  instanceId,
  type ServiceInstance,
  type Source,
  type SourceObserver,
  type Subscription,
  splitHostPort,
} from '@weft/core';

/** A coded warning: something the source skipped, named so an operator can find it. */
export interface FileSourceWarning {
  code: 'FILE_SOURCE_BAD_ENTRY';
  message: string;
  /** The entry's `name`, or `instances[i]` when it has none. */
  object: string;
}

export interface JsonFileSourceOptions {
  /** The catalogue file: `{"instances": [{"name", "service", "address": "host:port", "tags"}]}`. */
  path: string;
  /** How often the file is read, in ms. Default 100. */
  pollMs?: number;
  /** Where skipped entries are reported. Default: `process.emitWarning`. */
  onWarning?: (warning: FileSourceWarning) => void;
}

/**
 * A read-only discovery source over a JSON file that some other tool rewrites. It polls the
 * file (simple and portable), delivers the whole catalogue as one snapshot whenever the file
 * changed, skips bad entries with a coded warning, and reports an unreadable file as an error
 * while keeping on polling, so a consumer keeps its last-known-good state and hears about it.
 */
export class JsonFileSource implements Source {
  readonly name: string;
  private readonly pollMs: number;
  private readonly onWarning: (warning: FileSourceWarning) => void;

  constructor(private readonly options: JsonFileSourceOptions) {
    this.name = `file:${options.path}`;
    this.pollMs = options.pollMs ?? 100;
    this.onWarning = options.onWarning ?? ((w) => process.emitWarning(`${w.message} (${w.object})`, { code: w.code }));
  }

  subscribe(observer: SourceObserver): Subscription {
    let stopped = false;
    let lastText: string | undefined;
    let failing = false;
    let revision = 0;
    const loop = async (): Promise<void> => {
      while (!stopped) {
        try {
          const text = await readFile(this.options.path, 'utf8');
          // Deliver on a change, and after a failure even without one (it clears the stale mark).
          if (!stopped && (text !== lastText || failing)) {
            const instances = this.parse(text); // throws on a file that is not JSON at all
            lastText = text;
            failing = false;
            observer.next({ instances, revision: ++revision });
          }
        } catch (err) {
          // Missing, unreadable or half-written: report it (every time), keep the last state, retry.
          failing = true;
          if (!stopped) observer.error(err instanceof Error ? err : new Error(String(err)));
        }
        await new Promise((resolve) => setTimeout(resolve, this.pollMs));
      }
    };
    void loop();
    const unsubscribe = (): void => {
      stopped = true;
    };
    return { unsubscribe, [Symbol.dispose]: unsubscribe };
  }

  /** The valid entries of the file as instances; each bad entry is skipped with a warning. */
  private parse(text: string): readonly ServiceInstance[] {
    const doc = JSON.parse(text) as { instances?: unknown };
    const entries = Array.isArray(doc.instances) ? doc.instances : [];
    const out: ServiceInstance[] = [];
    entries.forEach((entry: unknown, i) => {
      const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
      const object = typeof e.name === 'string' ? e.name : `instances[${i}]`;
      const hp = typeof e.address === 'string' ? splitHostPort(e.address) : undefined;
      const tags = Array.isArray(e.tags) && e.tags.every((t) => typeof t === 'string') ? e.tags : undefined;
      if (typeof e.service !== 'string' || e.service === '' || hp === undefined || tags === undefined) {
        this.onWarning({
          code: 'FILE_SOURCE_BAD_ENTRY',
          message: `${this.name}: skipped ${object}: needs service, address "host:port" and tags`,
          object,
        });
        return;
      }
      const value = `${hp.host}:${hp.port}`;
      out.push({
        id: instanceId(e.service, 'http', value),
        namespace: 'default',
        service: e.service,
        endpoint: { type: 'http', value, host: hp.host, port: hp.port },
        tags,
        metadata: {},
        status: 'UP',
        ttl: 0,
        registeredAt: 0,
        lastHeartbeat: 0,
      });
    });
    return Object.freeze(out);
  }
}
