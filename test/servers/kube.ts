import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveServerBinary } from './binaries.js';
import { type EtcdServer, startEtcd } from './etcd.js';
import { http } from './http.js';
import { freePort, LOOPBACK } from './ports.js';
import { type ServerLifecycle, ServerProcess } from './process.js';

export interface KubeToken {
  token: string;
  user: string;
  uid?: string;
  groups?: readonly string[];
}

export interface KubeApiserverOptions {
  /**
   * An etcd (>= 3.5) to store into. Default: a private `etcd35` started
   * (and stopped) with the apiserver.
   */
  etcd?: EtcdServer;
  /** Default `RBAC`: the admin token is in system:masters, extra tokens get only what RBAC objects grant. */
  authorizationMode?: 'RBAC' | 'AlwaysAllow';
  /** Extra static bearer tokens (e.g. a restricted user for RBAC tests). */
  extraTokens?: readonly KubeToken[];
  /** Extra kube-apiserver flags (`--name=value`). */
  extraArgs?: readonly string[];
  /** Default 120 s (kube-apiserver takes ~10-30 s on 2 cores). */
  startTimeoutMs?: number;
}

export interface KubeApiserver extends ServerLifecycle {
  /** `https://127.0.0.1:PORT` (self-signed certificate: skip TLS verification). */
  url: string;
  port: number;
  /** Bearer token of `weft-admin` (group system:masters). */
  token: string;
  /** kubeconfig (token auth, insecure-skip-tls-verify) usable by @kubernetes/client-node's KubeConfig.loadFromFile(). */
  kubeconfigPath: string;
  /** The same kubeconfig as YAML text (for KubeConfig.loadFromString()). */
  kubeconfig: string;
  /** Directory holding the apiserver's self-generated serving cert (apiserver.crt/.key). */
  certDir: string;
  dir: string;
  etcd: EtcdServer;
}

function kubeconfigYaml(url: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: weft-test',
    '    cluster:',
    `      server: ${url}`,
    '      insecure-skip-tls-verify: true',
    'users:',
    '  - name: weft-admin',
    '    user:',
    `      token: ${token}`,
    'contexts:',
    '  - name: weft-test',
    '    context:',
    '      cluster: weft-test',
    '      user: weft-admin',
    '      namespace: default',
    'current-context: weft-test',
    '',
  ].join('\n');
}

function csvField(s: string): string {
  return /[",\s]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * Starts a kube-apiserver the way controller-runtime's envtest does (no
 * controllers, kubelets or scheduler: only the API and its storage), on a
 * free loopback port, backed by etcd >= 3.5.
 */
export async function startKubeApiserver(options: KubeApiserverOptions = {}): Promise<KubeApiserver> {
  // Resolve binaries before starting anything so a missing one fails fast.
  const binary = resolveServerBinary('kube-apiserver');
  if (options.etcd === undefined) resolveServerBinary('etcd35');

  const dir = await mkdtemp(join(tmpdir(), 'weft-kube-'));
  const certDir = join(dir, 'certs');
  await mkdir(certDir);
  const token = randomBytes(24).toString('hex');
  const tokens: KubeToken[] = [
    { token, user: 'weft-admin', uid: 'weft-admin', groups: ['system:masters'] },
    ...(options.extraTokens ?? []),
  ];
  const tokenFile = join(dir, 'tokens.csv');
  await writeFile(
    tokenFile,
    tokens
      .map((t) => [t.token, t.user, t.uid ?? t.user, (t.groups ?? []).join(',')].map(csvField).join(','))
      .join('\n')
      .concat('\n'),
    { mode: 0o600 },
  );
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const saPub = join(dir, 'sa.pub');
  const saKey = join(dir, 'sa.key');
  await writeFile(saPub, publicKey);
  await writeFile(saKey, privateKey, { mode: 0o600 });

  const ownsEtcd = options.etcd === undefined;
  let etcd: EtcdServer;
  try {
    etcd = options.etcd ?? (await startEtcd({ binary: 'etcd35' }));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  const port = await freePort();
  const url = `https://${LOOPBACK}:${port}`;
  const args = [
    `--etcd-servers=${etcd.endpoint}`,
    `--cert-dir=${certDir}`,
    `--secure-port=${port}`,
    `--bind-address=${LOOPBACK}`,
    `--advertise-address=${LOOPBACK}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${saPub}`,
    `--service-account-signing-key-file=${saKey}`,
    `--token-auth-file=${tokenFile}`,
    `--authorization-mode=${options.authorizationMode ?? 'RBAC'}`,
    '--allow-privileged=true',
    '--disable-admission-plugins=ServiceAccount',
    // No kubelets/controllers here: skip the `kubernetes` Service endpoint
    // reconciler and API priority & fairness to start faster and idle quieter.
    '--endpoint-reconciler-type=none',
    '--enable-priority-and-fairness=false',
    '--profiling=false',
    ...(options.extraArgs ?? []),
  ];
  const logFile = join(dir, 'kube-apiserver.log');
  const auth = { authorization: `Bearer ${token}` };
  const proc = new ServerProcess({
    name: 'kube-apiserver',
    binary,
    args,
    logFile,
    readyTimeoutMs: options.startTimeoutMs ?? 120_000,
    ready: async () => {
      const ready = await http(`${url}/readyz`, { insecure: true, headers: auth, timeoutMs: 5_000 });
      if (ready.status !== 200) return false;
      // The system namespaces are created by a controller loop after /readyz turns ok.
      const ns = await http(`${url}/api/v1/namespaces/default`, { insecure: true, headers: auth, timeoutMs: 5_000 });
      return ns.status === 200;
    },
  });
  try {
    await proc.start();
  } catch (err) {
    // The temp dir (with kube-apiserver.log, named in the error) is kept for post-mortems.
    if (ownsEtcd) await etcd.stop();
    throw err;
  }

  const kubeconfig = kubeconfigYaml(url, token);
  const kubeconfigPath = join(dir, 'kubeconfig.yaml');
  await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });

  let stopped = false;
  return {
    url,
    port,
    token,
    kubeconfigPath,
    kubeconfig,
    certDir,
    dir,
    logFile,
    etcd,
    process: proc,
    async stop() {
      if (stopped) return;
      stopped = true;
      await proc.dispose();
      if (ownsEtcd) await etcd.stop();
      await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await proc.stop();
      await proc.start();
    },
    kill: () => proc.kill(),
    start: () => proc.start(),
    pause: () => proc.pause(),
    resume: () => proc.resume(),
  };
}
