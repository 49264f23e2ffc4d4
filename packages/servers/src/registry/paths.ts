/** The API's paths, relative to the mount prefix (Amalgam8's, plus Weft's status route). */
export const INSTANCES = '/api/v1/instances';
export const INSTANCE = '/api/v1/instances/:id';
export const HEARTBEAT = '/api/v1/instances/:id/heartbeat';
/** Weft's: Amalgam8's own API had none. */
export const STATUS = '/api/v1/instances/:id/status';
export const SERVICES = '/api/v1/services';
export const SERVICE = '/api/v1/services/:name';
/** Weft's: the proxies that read the namespace (`x-weft-proxy`). */
export const PROXIES = '/api/v1/proxies';
