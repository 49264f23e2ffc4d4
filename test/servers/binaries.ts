import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The server binaries `.ci/provision-servers.sh` provides. */
export type ServerBinary = 'etcd' | 'etcd35' | 'consul' | 'kube-apiserver';

export const PROVISION_COMMAND = 'bash .ci/provision-servers.sh';

/** Provisioning target of the script for each binary. */
const TARGET: Record<ServerBinary, string> = {
  etcd: 'etcd',
  etcd35: 'etcd35',
  consul: 'consul',
  'kube-apiserver': 'kube',
};

/** Environment variable that overrides where each binary is looked up. */
const OVERRIDE_ENV: Record<ServerBinary, string> = {
  etcd: 'WEFT_ETCD_BIN',
  etcd35: 'WEFT_ETCD35_BIN',
  consul: 'WEFT_CONSUL_BIN',
  'kube-apiserver': 'WEFT_KUBE_APISERVER_BIN',
};

/** Where the Go-built binaries live (outside git). */
export function serversCacheDir(): string {
  const fromEnv = process.env.WEFT_SERVERS_CACHE;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(homedir(), '.cache', 'weft-servers');
}

/** Thrown when a server binary is not provisioned. Tests must fail on it, never skip. */
export class MissingServerBinaryError extends Error {
  readonly binary: ServerBinary;
  readonly searched: readonly string[];

  constructor(binary: ServerBinary, searched: readonly string[]) {
    const cmd = `${PROVISION_COMMAND} ${TARGET[binary]}`;
    super(
      `Missing test server binary "${binary}" (looked in: ${searched.join(', ')}). ` +
        `Integration tests need the real server: provision it with \`${cmd}\` ` +
        `(or \`${PROVISION_COMMAND}\` for all servers), or point ${OVERRIDE_ENV[binary]} at an executable.`,
    );
    this.name = 'MissingServerBinaryError';
    this.binary = binary;
    this.searched = searched;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of a provisioned server binary; throws MissingServerBinaryError when absent. */
export function resolveServerBinary(binary: ServerBinary): string {
  const searched: string[] = [];
  const override = process.env[OVERRIDE_ENV[binary]];
  if (override !== undefined && override !== '') {
    if (isExecutable(override)) return override;
    throw new MissingServerBinaryError(binary, [`${OVERRIDE_ENV[binary]}=${override}`]);
  }
  if (binary === 'etcd') {
    // Debian's etcd-server package: /usr/bin/etcd, or whatever `etcd` is on PATH.
    const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
    for (const dir of [...dirs, '/usr/bin']) {
      const candidate = join(dir, 'etcd');
      searched.push(candidate);
      if (isExecutable(candidate)) return candidate;
    }
    throw new MissingServerBinaryError(binary, ['$PATH/etcd', '/usr/bin/etcd']);
  }
  const candidate = join(serversCacheDir(), 'bin', binary);
  searched.push(candidate);
  if (isExecutable(candidate)) return candidate;
  throw new MissingServerBinaryError(binary, searched);
}
