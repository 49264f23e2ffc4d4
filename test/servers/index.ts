// Real servers for Weft's registry-adapter integration tests.
// Binaries come from `bash .ci/provision-servers.sh`; see ./README.md.
export {
  MissingServerBinaryError,
  PROVISION_COMMAND,
  resolveServerBinary,
  type ServerBinary,
  serversCacheDir,
} from './binaries.js';
export { type ConsulOptions, type ConsulServer, startConsul } from './consul.js';
export { type EtcdOptions, type EtcdServer, startEtcd } from './etcd.js';
export { type HttpOptions, type HttpResponse, http } from './http.js';
export { type KubeApiserver, type KubeApiserverOptions, type KubeToken, startKubeApiserver } from './kube.js';
export { freePort, freePorts, LOOPBACK, type WaitForOptions, waitFor } from './ports.js';
export { ServerProcess, type ServerProcessSpec } from './process.js';
export { TcpCutProxy, type TcpCutProxyOptions } from './tcp-proxy.js';
export { selfSignedCertificate } from './tls.js';
