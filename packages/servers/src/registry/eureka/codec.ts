import { InvalidArgumentError } from '@weft/core';
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import type { EurekaApplicationsView, EurekaApplicationView } from './applications.js';
import type { EurekaInstanceView } from './from-weft.js';

/** The two formats Eureka speaks. */
export type EurekaFormat = 'json' | 'xml';

export const CONTENT_TYPES: Readonly<Record<EurekaFormat, string>> = {
  json: 'application/json',
  xml: 'application/xml',
};

/**
 * The format of an answer, from `Accept`: JSON when the client asks for it (Netflix's
 * eureka-client, Spring), XML otherwise — Eureka's server (Jersey) answers XML to a request that
 * names no type, which is what py_eureka_client sends and parses.
 */
export function answerFormat(accept: string | undefined): EurekaFormat {
  const text = (accept ?? '').toLowerCase();
  const json = text.indexOf('json');
  if (json < 0) return 'xml';
  const xml = text.indexOf('xml');
  return xml < 0 || json < xml ? 'json' : 'xml';
}

type Node = Record<string, unknown>;

/** Port objects in the `$` / `@enabled` form of Eureka's codecs (JSON and XML alike). */
function port(p: { port: number; enabled: boolean }): Node {
  return { $: p.port, '@enabled': String(p.enabled) };
}

/** XML element names a metadata key can be; keys that cannot are left out of XML answers. */
const XML_NAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;

/**
 * An instance as Eureka's codecs write it, fields in their order. JSON and XML differ in two
 * places: the override is `overriddenStatus` in JSON, `overriddenstatus` in XML, and an empty
 * metadata map is `{"@class": "java.util.Collections$EmptyMap"}` in JSON.
 */
function instanceNode(view: EurekaInstanceView, format: EurekaFormat): Node {
  const metadata: Node = {};
  for (const [key, value] of Object.entries(view.metadata))
    if (format === 'json' || (XML_NAME.test(key) && !key.toLowerCase().startsWith('xml'))) metadata[key] = value;
  if (format === 'json' && Object.keys(metadata).length === 0) metadata['@class'] = 'java.util.Collections$EmptyMap';
  const node: Node = {
    instanceId: view.instanceId,
    hostName: view.hostName,
    app: view.app,
    ipAddr: view.ipAddr,
    status: view.status,
    [format === 'json' ? 'overriddenStatus' : 'overriddenstatus']: view.overriddenStatus,
    port: port(view.port),
    securePort: port(view.securePort),
    countryId: view.countryId,
    dataCenterInfo: { '@class': view.dataCenterInfo.className, name: view.dataCenterInfo.name },
    leaseInfo: { ...view.leaseInfo },
    metadata,
  };
  for (const field of ['homePageUrl', 'statusPageUrl', 'healthCheckUrl', 'secureHealthCheckUrl'] as const) {
    const value = view[field];
    if (value !== undefined) node[field] = value;
  }
  Object.assign(node, {
    vipAddress: view.vipAddress,
    secureVipAddress: view.secureVipAddress,
    isCoordinatingDiscoveryServer: String(view.isCoordinatingDiscoveryServer),
    lastUpdatedTimestamp: String(view.lastUpdatedTimestamp),
    lastDirtyTimestamp: String(view.lastDirtyTimestamp),
    actionType: view.actionType,
  });
  return node;
}

function applicationNode(app: EurekaApplicationView, format: EurekaFormat): Node {
  return { name: app.name, instance: app.instances.map((i) => instanceNode(i, format)) };
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '$',
  // `enabled="true"` must stay an attribute with a value: clients read it as text.
  suppressBooleanAttributes: false,
  suppressEmptyNode: false,
});

function write(root: string, node: Node, format: EurekaFormat): string {
  if (format === 'json') return JSON.stringify({ [root]: node });
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>${builder.build({ [root]: node })}`;
}

/** `GET /apps`, `/apps/delta`, `/vips/…`: `<applications>` / `{"applications": …}`. */
export function writeApplications(apps: EurekaApplicationsView, format: EurekaFormat): string {
  return write(
    'applications',
    {
      versions__delta: String(apps.versionsDelta),
      apps__hashcode: apps.appsHashcode,
      application: apps.applications.map((a) => applicationNode(a, format)),
    },
    format,
  );
}

/** `GET /apps/{app}`. */
export function writeApplication(app: EurekaApplicationView, format: EurekaFormat): string {
  return write('application', applicationNode(app, format), format);
}

/** `GET /apps/{app}/{id}`, `/instances/{id}`. */
export function writeInstance(view: EurekaInstanceView, format: EurekaFormat): string {
  return write('instance', instanceNode(view, format), format);
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '$',
  // Every value stays a string, as Eureka's XML codec reads them; the registration reader converts.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
});

/**
 * Parses an XML body (`<instance>…</instance>`) into the JSON body's shape. Documents with a
 * DOCTYPE are refused: Eureka bodies never have one, and entity declarations are how XML bodies
 * are made to blow up.
 *
 * @throws InvalidArgumentError naming the body when it is not well-formed XML.
 */
export function parseXmlBody(text: string): unknown {
  if (/<!DOCTYPE/i.test(text))
    throw new InvalidArgumentError('Eureka request body', [{ path: '', message: 'must not have a DOCTYPE' }]);
  const valid = XMLValidator.validate(text);
  if (valid !== true)
    throw new InvalidArgumentError('Eureka request body', [
      { path: '', message: `is not well-formed XML (line ${valid.err.line}: ${valid.err.msg})` },
    ]);
  return parser.parse(text);
}
