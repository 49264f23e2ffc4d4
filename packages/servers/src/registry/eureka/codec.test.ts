import { describe, expect, it } from 'vitest';
import { answerFormat, parseXmlBody, writeInstance } from './codec.js';
import type { EurekaInstanceView } from './from-weft.js';

const view: EurekaInstanceView = {
  instanceId: 'i-1',
  hostName: 'h',
  app: 'BOOKS',
  ipAddr: '10.0.0.1',
  status: 'UP',
  overriddenStatus: 'UNKNOWN',
  port: { port: 80, enabled: true },
  securePort: { port: 443, enabled: false },
  countryId: 1,
  dataCenterInfo: { className: 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
  leaseInfo: {
    renewalIntervalInSecs: 30,
    durationInSecs: 90,
    registrationTimestamp: 1,
    lastRenewalTimestamp: 2,
    evictionTimestamp: 0,
    serviceUpTimestamp: 1,
  },
  metadata: { 'management.port': '80', 'bad key': 'x', xmlish: 'y', note: 'a < b & c' },
  homePageUrl: 'http://h:80/',
  statusPageUrl: undefined,
  healthCheckUrl: undefined,
  secureHealthCheckUrl: undefined,
  vipAddress: 'books',
  secureVipAddress: 'books',
  isCoordinatingDiscoveryServer: false,
  lastUpdatedTimestamp: 2,
  lastDirtyTimestamp: 1,
  actionType: 'ADDED',
};

describe('Eureka codec', () => {
  it('answers JSON only when Accept asks for it first, XML otherwise (as Jersey does)', () => {
    expect(answerFormat(undefined)).toBe('xml');
    expect(answerFormat('*/*')).toBe('xml');
    expect(answerFormat('application/json')).toBe('json');
    expect(answerFormat('application/json, application/xml')).toBe('json');
    expect(answerFormat('application/xml;q=1, application/json;q=0.5')).toBe('xml');
  });

  it('writes XML that reads back: attributes, escaping, and only metadata keys XML can name', () => {
    const xml = writeInstance(view, 'xml');
    expect(xml).toContain('<port enabled="true">80</port>');
    expect(xml).toContain('<note>a &lt; b &amp; c</note>');
    expect(xml).not.toContain('bad key');
    expect(xml).not.toContain('xmlish'); // names starting with "xml" are reserved
    expect(xml).not.toContain('statusPageUrl');
    const back = parseXmlBody(xml) as { instance: Record<string, unknown> };
    expect(back.instance).toMatchObject({
      instanceId: 'i-1',
      overriddenstatus: 'UNKNOWN',
      port: { $: '80', '@enabled': 'true' },
      metadata: { 'management.port': '80', note: 'a < b & c' },
    });
  });

  it('writes JSON in the Jackson codec form', () => {
    const json = JSON.parse(writeInstance({ ...view, metadata: {} }, 'json')) as { instance: Record<string, unknown> };
    expect(json.instance).toMatchObject({
      overriddenStatus: 'UNKNOWN',
      port: { $: 80, '@enabled': 'true' },
      dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
      metadata: { '@class': 'java.util.Collections$EmptyMap' },
      isCoordinatingDiscoveryServer: 'false',
      lastDirtyTimestamp: '1',
    });
  });

  it('refuses malformed XML, naming the line', () => {
    expect(() => parseXmlBody('<instance><a></instance>')).toThrow(/not well-formed XML \(line 1/);
  });
});
