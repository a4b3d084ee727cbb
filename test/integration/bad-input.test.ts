/**
 * Bad input, table-driven, at every entry point: the five console functions and the health check
 * (real handlers against DynamoDB Local and the zWAN simulator), the four DR state machines'
 * inputs, the configuration, the sandbox's topology and fault scripts, and the directors' answers
 * in both dialects. Every case must end in a named project error (never a TypeError or
 * SyntaxError) whose message names the field and the value, and — for the handlers — leave every
 * item of the state table as it was and make no director write.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { parseConfig } from '../../shared/config/load.js';
import { createZwanDirector } from '../../shared/director/zwan/adapter.js';
import { MERAKI_OPERATIONS, parseMerakiResponse } from '../../shared/director/meraki/schemas.js';
import { parseWorkflowInput, type Workflow } from '../../shared/dr/inputs.js';
import { CpeFailoverError, formatValue } from '../../shared/errors.js';
import { parseFaultScript } from '../../local/sandbox/faults.js';
import { parseTopology } from '../../local/simulator/topology.js';
import { testContext } from '../helpers/lambda-context.js';
import { saveLabHealth, startLabFunctions, type LabFunctions } from '../helpers/lab.js';

/** One bad input: what it is, the input, and the field (dotted path) and value the error must name. */
type Case = [what: string, input: unknown, field: string, value: unknown];

const context = testContext('bad-input', 30_000);
let lab: LabFunctions;

beforeAll(async () => {
  lab = await startLabFunctions('bad-input', { env: 'it' });
  await saveLabHealth(lab.repo, { HA_DC1: 'UP', HA_DC2: 'UP' });
});
afterAll(() => lab.stop());

/** Every item of the state table, as one digest. */
async function tableDigest(): Promise<string> {
  const items: unknown[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await lab.table.doc.send(
      new ScanCommand({ TableName: lab.table.tableName, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  const canonical = items.map((i) => JSON.stringify(i, Object.keys(i as object).sort())).sort();
  return createHash('sha256').update(canonical.join('\n')).digest('hex');
}

/** Requests to the simulator that change something (anything but reads and bulk health). */
function directorWrites(): number {
  return lab.sim.requests.filter((r) => r.method !== 'GET' && r.operation !== 'sampleHealth').length;
}

/** The error of `run`, asserted to be a clear one naming `field` and `value`. */
async function expectClear(run: () => unknown, field: string, value: unknown): Promise<void> {
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CpeFailoverError);
  const message = (error as Error).message;
  expect(message).toContain(`${field}=${formatValue(value)}`);
}

const long = (n: number) => 'x'.repeat(n);
const handlerOf = async (fn: string) =>
  (
    (await import(`../../functions/${fn}/handler.js`)) as {
      handler: (e: unknown, c: unknown) => Promise<unknown>;
    }
  ).handler;

const PIN = { tenantId: 'lab-tenant', haName: 'Chennai', concentratorId: 'HA_DC2', reason: 'maintenance' };
const UNPIN = { tenantId: 'lab-tenant', haName: 'Chennai' };

const CONSOLE: Record<string, Case[]> = {
  status: [
    ['a number tenant', { tenantId: 42 }, 'tenantId', 42],
    ['an empty tenant', { tenantId: '' }, 'tenantId', ''],
    ['tenant ..', { tenantId: '..' }, 'tenantId', '..'],
    ['tenant .', { tenantId: '.' }, 'tenantId', '.'],
    ['a slash in the tenant', { tenantId: 'a/b' }, 'tenantId', 'a/b'],
    ['a # in the tenant', { tenantId: 'x#y' }, 'tenantId', 'x#y'],
    ['a 129-character tenant', { tenantId: long(129) }, 'tenantId', long(129)],
    ['a newline in the tenant', { tenantId: 'lab\ntenant' }, 'tenantId', 'lab\ntenant'],
    ['a null tenant', { tenantId: null }, 'tenantId', null],
    ['an unconfigured tenant', { tenantId: 'not-configured' }, 'tenantId', 'not-configured'],
    ['an unknown field', { tenant: 'lab-tenant' }, 'tenant', 'lab-tenant'],
    ['an array event', [], '(root)', []],
    ['a string event', 'lab-tenant', '(root)', 'lab-tenant'],
  ],
  'update-branches': [
    ['no tenant', {}, 'tenantId', undefined],
    ['dryRun "yes"', { tenantId: 'lab-tenant', dryRun: 'yes' }, 'dryRun', 'yes'],
    ['dryRun 1', { tenantId: 'lab-tenant', dryRun: 1 }, 'dryRun', 1],
    ['a number haName', { tenantId: 'lab-tenant', haName: 5 }, 'haName', 5],
    ['an empty haName', { tenantId: 'lab-tenant', haName: '' }, 'haName', ''],
    ['a # in the haName', { tenantId: 'lab-tenant', haName: 'x#y' }, 'haName', 'x#y'],
    ['a slash in the haName', { tenantId: 'lab-tenant', haName: 'a/b' }, 'haName', 'a/b'],
    ['an unknown group', { tenantId: 'lab-tenant', haName: 'NoSuchGroup' }, 'haName', 'NoSuchGroup'],
    ['an unconfigured tenant', { tenantId: 'other', dryRun: false }, 'tenantId', 'other'],
    ['tenant ..', { tenantId: '..', dryRun: true }, 'tenantId', '..'],
    ['dryrun misspelt', { tenantId: 'lab-tenant', dryrun: true }, 'dryrun', true],
    ['an unknown field', { tenantId: 'lab-tenant', targetId: 'HA_DC2' }, 'targetId', 'HA_DC2'],
    ['a null event field', { tenantId: 'lab-tenant', haName: null }, 'haName', null],
  ],
  pin: [
    ['no tenant', { ...PIN, tenantId: undefined }, 'tenantId', undefined],
    ['no reason', { ...PIN, reason: undefined }, 'reason', undefined],
    ['an empty reason', { ...PIN, reason: '  ' }, 'reason', '  '],
    ['a 300 KB reason', { ...PIN, reason: long(300_000) }, 'reason', long(300_000)],
    ['a 501-character reason', { ...PIN, reason: long(501) }, 'reason', long(501)],
    [
      'CR/LF in the reason',
      { ...PIN, reason: 'ok\r\nBcc: x@example.net' },
      'reason',
      'ok\r\nBcc: x@example.net',
    ],
    ['a NUL in the reason', { ...PIN, reason: 'a\u0000b' }, 'reason', 'a\u0000b'],
    ['a number reason', { ...PIN, reason: 7 }, 'reason', 7],
    ['a newline in by', { ...PIN, by: 'a\nb' }, 'by', 'a\nb'],
    ['a 501-character by', { ...PIN, by: long(501) }, 'by', long(501)],
    ['an object by', { ...PIN, by: { name: 'x' } }, 'by', { name: 'x' }],
    ['an unknown concentrator', { ...PIN, concentratorId: 'NOPE' }, 'concentratorId', 'NOPE'],
    ['a number concentrator', { ...PIN, concentratorId: 5 }, 'concentratorId', 5],
    ['a slash in the concentrator', { ...PIN, concentratorId: 'a/b' }, 'concentratorId', 'a/b'],
    ['expiresAt "tomorrow"', { ...PIN, expiresAt: 'tomorrow' }, 'expiresAt', 'tomorrow'],
    ['expiresAt -5', { ...PIN, expiresAt: -5 }, 'expiresAt', -5],
    ['expiresAt 1.5', { ...PIN, expiresAt: 1.5 }, 'expiresAt', 1.5],
    [
      'expiresAt without a zone',
      { ...PIN, expiresAt: '2030-01-01T00:00:00' },
      'expiresAt',
      '2030-01-01T00:00:00',
    ],
    [
      'expiresAt in the past',
      { ...PIN, expiresAt: '2020-01-01T00:00:00Z' },
      'expiresAt',
      '2020-01-01T00:00:00.000Z',
    ],
    ['force "true"', { ...PIN, force: 'true' }, 'force', 'true'],
    ['haName ..', { ...PIN, haName: '..' }, 'haName', '..'],
    ['an unknown group', { ...PIN, haName: 'NoSuch' }, 'haName', 'NoSuch'],
    ['an unconfigured tenant, forced', { ...PIN, tenantId: 'other', force: true }, 'tenantId', 'other'],
    ['an unknown field', { ...PIN, concentrator: 'HA_DC2' }, 'concentrator', 'HA_DC2'],
  ],
  unpin: [
    ['no tenant', { haName: 'Chennai' }, 'tenantId', undefined],
    ['no group', { tenantId: 'lab-tenant' }, 'haName', undefined],
    ['CR/LF in the reason', { ...UNPIN, reason: 'done\r\nX' }, 'reason', 'done\r\nX'],
    ['a 600-character by', { ...UNPIN, by: long(600) }, 'by', long(600)],
    ['a number haName', { ...UNPIN, haName: 7 }, 'haName', 7],
    ['an unconfigured tenant', { ...UNPIN, tenantId: 'other' }, 'tenantId', 'other'],
    ['an unknown field', { ...UNPIN, force: true }, 'force', true],
    ['an unknown group', { ...UNPIN, haName: 'NoSuch' }, 'haName', 'NoSuch'],
    ['a tab in the reason', { ...UNPIN, reason: 'a\tb' }, 'reason', 'a\tb'],
  ],
  'ack-monitor-blind': [
    ['no reason', {}, 'reason', undefined],
    ['an empty reason', { reason: '' }, 'reason', ''],
    ['a 9,999-character reason', { reason: long(9_999) }, 'reason', long(9_999)],
    ['CR in the reason', { reason: 'checked\rX' }, 'reason', 'checked\rX'],
    ['an object by', { reason: 'checked', by: {} }, 'by', {}],
    ['an unknown field', { reason: 'checked', acknowledge: true }, 'acknowledge', true],
    ['a number reason', { reason: 7 }, 'reason', 7],
    ['a bidi override in by', { reason: 'checked', by: 'noc\u202Eadmin' }, 'by', 'noc\u202Eadmin'],
  ],
  'health-check': [
    ['samplesPerRun 0', { samplesPerRun: 0 }, 'samplesPerRun', 0],
    ['samplesPerRun 121', { samplesPerRun: 121 }, 'samplesPerRun', 121],
    ['samplesPerRun "ten"', { samplesPerRun: 'ten' }, 'samplesPerRun', 'ten'],
    ['samplesPerRun 1.5', { samplesPerRun: 1.5 }, 'samplesPerRun', 1.5],
    ['samplesPerRun -1', { samplesPerRun: -1 }, 'samplesPerRun', -1],
    ['a number source', { source: 5 }, 'source', 5],
    ['a number time', { time: 5 }, 'time', 5],
    ['an array detail-type', { 'detail-type': [] }, 'detail-type', []],
    ['a string event', 'run', '(root)', 'run'],
  ],
};

describe.each(Object.entries(CONSOLE))('%s (real handler)', (fn, cases) => {
  it.each(cases)(
    '%s: a clear error, the table unchanged, no director write',
    async (_what, input, field, value) => {
      const handler = await handlerOf(fn);
      const before = await tableDigest();
      const writes = directorWrites();
      await expectClear(() => handler(input, context), field, value);
      expect(await tableDigest()).toBe(before);
      expect(directorWrites()).toBe(writes);
    },
  );
});

const DR: [Workflow, ...Case][] = [
  ['Backup', 'trigger "cron"', { trigger: 'cron' }, 'trigger', 'cron'],
  ['Backup', 'a number trigger', { trigger: 5 }, 'trigger', 5],
  ['Backup', 'an empty reason', { reason: '' }, 'reason', ''],
  ['Backup', 'CR/LF in the reason', { reason: 'a\r\nb' }, 'reason', 'a\r\nb'],
  ['Backup', 'a 600-character reason', { reason: long(600) }, 'reason', long(600)],
  ['Backup', 'an unknown field', { trigger: 'on-demand', force: true }, 'force', true],
  ['Backup', 'an array input', [], '(root)', []],
  ['SwitchoverDcToDr', 'no mode', { reason: 'r' }, 'mode', undefined],
  ['SwitchoverDcToDr', 'mode "fast"', { mode: 'fast', reason: 'r' }, 'mode', 'fast'],
  ['SwitchoverDcToDr', 'no reason', { mode: 'planned' }, 'reason', undefined],
  ['SwitchoverDcToDr', 'LF in the reason', { mode: 'planned', reason: 'a\nb' }, 'reason', 'a\nb'],
  [
    'SwitchoverDcToDr',
    'approval "yes"',
    { mode: 'planned', reason: 'r', approval: 'yes' },
    'approval',
    'yes',
  ],
  ['SwitchoverDcToDr', 'an unknown field', { mode: 'planned', reason: 'r', site: 'DR' }, 'site', 'DR'],
  ['SwitchoverDcToDr', 'a 501-character reason', { mode: 'planned', reason: long(501) }, 'reason', long(501)],
  ['SwitchoverDcToDr', 'a number reason', { mode: 'planned', reason: 3 }, 'reason', 3],
  ['FailbackDrToDc', 'no reason', {}, 'reason', undefined],
  ['FailbackDrToDc', 'an empty reason', { reason: ' ' }, 'reason', ' '],
  ['FailbackDrToDc', 'approval 1', { reason: 'r', approval: 1 }, 'approval', 1],
  ['FailbackDrToDc', 'an unknown field', { reason: 'r', mode: 'planned' }, 'mode', 'planned'],
  ['FailbackDrToDc', 'a BEL in the reason', { reason: 'a\u0007' }, 'reason', 'a\u0007'],
  ['WeeklyDrill', 'trigger "daily"', { trigger: 'daily' }, 'trigger', 'daily'],
  ['WeeklyDrill', 'a 9,999-character reason', { reason: long(9_999) }, 'reason', long(9_999)],
  ['WeeklyDrill', 'an unknown field', { trigger: 'schedule', dryRun: true }, 'dryRun', true],
  ['WeeklyDrill', 'a string input', 'go', '(root)', 'go'],
];

describe('DR state machine inputs', () => {
  it.each(DR)('%s, %s: a clear error', async (workflow, _what, input, field, value) => {
    await expectClear(() => parseWorkflowInput(workflow, input), field, value);
  });
});

const ZWAN_DIRECTOR = {
  kind: 'zwan',
  sites: {
    DC: { baseUrl: 'https://dc.example.net/api/v1' },
    DR: { baseUrl: 'https://dr.example.net/api/v1' },
  },
  secretName: 's',
  tenants: ['t1'],
};
const MERAKI_DIRECTOR = {
  kind: 'meraki',
  secretName: 's',
  organizations: [
    {
      id: '123',
      hubs: [
        { name: 'london', tagPrefix: 'london', trackedIp: '192.0.2.1' },
        { name: 'paris', tagPrefix: 'paris', trackedIp: '192.0.2.2' },
      ],
    },
  ],
};
const config = (over: Record<string, unknown>, director: Record<string, unknown> = ZWAN_DIRECTOR) => ({
  env: 'prod',
  director,
  ...over,
});
const zwanWith = (over: Record<string, unknown>) => config({}, { ...ZWAN_DIRECTOR, ...over });
const merakiWith = (over: Record<string, unknown>) => config({}, { ...MERAKI_DIRECTOR, ...over });
const merakiOrg = (over: Record<string, unknown>) =>
  merakiWith({ organizations: [{ ...MERAKI_DIRECTOR.organizations[0], ...over }] });

const CONFIG: Case[] = [
  ['env in capitals', config({ env: 'PROD' }), 'env', 'PROD'],
  ['env of one letter', config({ env: 'p' }), 'env', 'p'],
  ['no env', config({ env: undefined }), 'env', undefined],
  ['an unknown director kind', config({}, { kind: 'cisco' }), 'director.kind', 'cisco'],
  ['no tenants', zwanWith({ tenants: [] }), 'director.tenants', []],
  ['an empty tenant', zwanWith({ tenants: [''] }), 'director.tenants.0', ''],
  ['a number tenant', zwanWith({ tenants: [5] }), 'director.tenants.0', 5],
  [
    'a base URL that is not a URL',
    zwanWith({ sites: { ...ZWAN_DIRECTOR.sites, DC: { baseUrl: 'director-dc' } } }),
    'director.sites.DC.baseUrl',
    'director-dc',
  ],
  ['no secret name', zwanWith({ secretName: '' }), 'director.secretName', ''],
  ['loss threshold 101', config({ health: { lossThresholdPct: 101 } }), 'health.lossThresholdPct', 101],
  ['failAfter 0', config({ health: { failAfter: 0 } }), 'health.failAfter', 0],
  ['failAfter 1.5', config({ health: { failAfter: 1.5 } }), 'health.failAfter', 1.5],
  ['recoverAfterSec -1', config({ health: { recoverAfterSec: -1 } }), 'health.recoverAfterSec', -1],
  ['sampleIntervalSec 0', config({ health: { sampleIntervalSec: 0 } }), 'health.sampleIntervalSec', 0],
  ['an unknown health field', config({ health: { lossThreshold: 30 } }), 'health.lossThreshold', 30],
  ['an unknown top-level field', config({ tenants: ['t1'] }), 'tenants', ['t1']],
  ['no organizations', merakiWith({ organizations: [] }), 'director.organizations', []],
  [
    'one hub',
    merakiOrg({ hubs: [MERAKI_DIRECTOR.organizations[0]?.hubs[0]] }),
    'director.organizations.0.hubs',
    [MERAKI_DIRECTOR.organizations[0]?.hubs[0]],
  ],
  [
    'a tracked IP that is not one',
    merakiOrg({
      hubs: [{ name: 'a', tagPrefix: 'a', trackedIp: 'x' }, MERAKI_DIRECTOR.organizations[0]?.hubs[1]],
    }),
    'director.organizations.0.hubs.0.trackedIp',
    'x',
  ],
  [
    'a tag prefix with a space',
    merakiOrg({
      hubs: [
        { name: 'a', tagPrefix: 'a b', trackedIp: '192.0.2.9' },
        MERAKI_DIRECTOR.organizations[0]?.hubs[1],
      ],
    }),
    'director.organizations.0.hubs.0.tagPrefix',
    'a b',
  ],
  ['requestsPerSecond 11', merakiWith({ requestsPerSecond: 11 }), 'director.requestsPerSecond', 11],
  ['requestsPerSecond 0', merakiWith({ requestsPerSecond: 0 }), 'director.requestsPerSecond', 0],
  ['an empty organization id', merakiOrg({ id: '' }), 'director.organizations.0.id', ''],
  ['a number organization id', merakiOrg({ id: 123 }), 'director.organizations.0.id', 123],
  [
    'a redirect host pattern of a path',
    merakiWith({ redirectHosts: ['evil.example/x'] }),
    'director.redirectHosts.0',
    'evil.example/x',
  ],
  ['a number lossIntervalSec', merakiWith({ lossIntervalSec: 'often' }), 'director.lossIntervalSec', 'often'],
  [
    'a # in a tenant (two group keys would be equal)',
    zwanWith({ tenants: ['t#x'] }),
    'director.tenants.0',
    't#x',
  ],
  ['tenant ..', zwanWith({ tenants: ['..'] }), 'director.tenants.0', '..'],
  ['a slash in an organization id', merakiOrg({ id: 'a/b' }), 'director.organizations.0.id', 'a/b'],
  ['redirect hosts *.com', merakiWith({ redirectHosts: ['*.com'] }), 'director.redirectHosts.0', '*.com'],
  [
    'redirect hosts *.co.uk',
    merakiWith({ redirectHosts: ['*.co.uk'] }),
    'director.redirectHosts.0',
    '*.co.uk',
  ],
  ['a backup schedule "daily"', config({ backup: { schedule: 'daily' } }), 'backup.schedule', 'daily'],
  [
    'a drill schedule of 5 cron fields',
    config({ backup: { drillSchedule: 'cron(0 3 * * SUN)' } }),
    'backup.drillSchedule',
    'cron(0 3 * * SUN)',
  ],
  [
    'an http base URL across a network',
    zwanWith({ sites: { ...ZWAN_DIRECTOR.sites, DC: { baseUrl: 'http://director-dc.example.net/api/v1' } } }),
    'director.sites.DC.baseUrl',
    'http://director-dc.example.net/api/v1',
  ],
  [
    'a javascript: management URL',
    zwanWith({
      sites: {
        ...ZWAN_DIRECTOR.sites,
        DR: { baseUrl: 'https://dr.example.net/api/v1', managementUrl: 'javascript:alert(1)' },
      },
    }),
    'director.sites.DR.managementUrl',
    'javascript:alert(1)',
  ],
  [
    'a file: Dashboard base',
    merakiWith({ baseUrl: 'file:///etc/passwd' }),
    'director.baseUrl',
    'file:///etc/passwd',
  ],
  [
    'credentials in a base URL',
    merakiWith({ baseUrl: 'https://key:secret@api.meraki.com/api/v1' }),
    'director.baseUrl',
    'https://key:secret@api.meraki.com/api/v1',
  ],
  [
    'a # in a hub name',
    merakiOrg({
      hubs: [
        { name: 'Paris DC #1', tagPrefix: 'paris', trackedIp: '192.0.2.9' },
        MERAKI_DIRECTOR.organizations[0]?.hubs[1],
      ],
    }),
    'director.organizations.0.hubs.0.name',
    'Paris DC #1',
  ],
  [
    'a slash in a hub name',
    merakiOrg({
      hubs: [
        { name: 'London/Docklands', tagPrefix: 'ldn', trackedIp: '192.0.2.9' },
        MERAKI_DIRECTOR.organizations[0]?.hubs[1],
      ],
    }),
    'director.organizations.0.hubs.0.name',
    'London/Docklands',
  ],
  [
    'a fragment in a base URL',
    zwanWith({ sites: { ...ZWAN_DIRECTOR.sites, DC: { baseUrl: 'https://dc.example.net/api/v1#x' } } }),
    'director.sites.DC.baseUrl',
    'https://dc.example.net/api/v1#x',
  ],
  [
    'a query in a base URL',
    merakiWith({ baseUrl: 'https://api.meraki.com/api/v1?x=1' }),
    'director.baseUrl',
    'https://api.meraki.com/api/v1?x=1',
  ],
  [
    'a drill cron out of range',
    config({ backup: { drillSchedule: 'cron(99 99 * * ? *)' } }),
    'backup.drillSchedule',
    'cron(99 99 * * ? *)',
  ],
  [
    'redirect hosts *.amazonaws.com for api.meraki.com',
    merakiWith({ redirectHosts: ['*.amazonaws.com'] }),
    'director.redirectHosts.0',
    '*.amazonaws.com',
  ],
  [
    'a backup schedule given as a rate',
    config({ backup: { schedule: 'rate(1 day)' } }),
    'backup.schedule',
    'rate(1 day)',
  ],
  [
    'rate(0 minutes)',
    config({ reconcile: { schedule: 'rate(0 minutes)' } }),
    'reconcile.schedule',
    'rate(0 minutes)',
  ],
  [
    'rate(1 minutes)',
    config({ reconcile: { schedule: 'rate(1 minutes)' } }),
    'reconcile.schedule',
    'rate(1 minutes)',
  ],
  [
    'a cron with both day fields set',
    config({ reconcile: { schedule: 'cron(0 12 * * MON *)' } }),
    'reconcile.schedule',
    'cron(0 12 * * MON *)',
  ],
];

describe('configuration', () => {
  it.each(CONFIG)('%s: a clear error', async (_what, input, field, value) => {
    await expectClear(() => parseConfig(input), field, value);
  });
});

const TOPOLOGY_CPE = {
  id: 'c1',
  name: 'c1',
  tenantId: 't1',
  metadata: { CPE_TYPE: 'DC' },
};
const topology = (over: Record<string, unknown>) => ({
  tenants: [{ id: 't1', name: 'T1' }],
  cpes: [TOPOLOGY_CPE],
  ...over,
});
const SANDBOX: [what: string, run: () => unknown, field: string, value: unknown][] = [
  [
    'a fault at a negative time',
    () => parseFaultScript('[{"at":-5,"action":"down","args":["HA_DC1"]}]'),
    '0.at',
    -5,
  ],
  [
    'an unknown fault action',
    () => parseFaultScript('20s explode HA_DC1'),
    '0 ("20s explode HA_DC1").action',
    'explode',
  ],
  [
    'a loss of 150 %',
    () => parseFaultScript('20s loss HA_DC1 150'),
    '0 ("20s loss HA_DC1 150").args.1',
    '150',
  ],
  [
    'a director mode that does not exist',
    () => parseFaultScript('20s director DC sleepy'),
    '0 ("20s director DC sleepy").args.1',
    'sleepy',
  ],
  [
    'a site that does not exist',
    () => parseFaultScript('20s site-down XX'),
    '0 ("20s site-down XX").args.0',
    'XX',
  ],
  ['down without a CPE', () => parseFaultScript('20s down'), '0 ("20s down").args', []],
  ['a topology without tenants', () => parseTopology(topology({ tenants: [] })), 'tenants', []],
  [
    'a CPE of an unknown tenant',
    () => parseTopology(topology({ cpes: [{ ...TOPOLOGY_CPE, tenantId: 'tx' }] })),
    'cpes.0.tenantId',
    'tx',
  ],
  [
    'a CPE id used twice',
    () => parseTopology(topology({ cpes: [TOPOLOGY_CPE, TOPOLOGY_CPE] })),
    'cpes.1.id',
    'c1',
  ],
  [
    'a non-string metadata value',
    () => parseTopology(topology({ cpes: [{ ...TOPOLOGY_CPE, metadata: { HA_NAME: 5 } }] })),
    'cpes.0.metadata.HA_NAME',
    5,
  ],
  [
    'a tunnel name that is not IPSECnn',
    () =>
      parseTopology(
        topology({
          cpes: [{ ...TOPOLOGY_CPE, tunnels: [{ name: 'GRE0', tunnelId: 'T', state: 'CREATED' }] }],
        }),
      ),
    'cpes.0.tunnels.0.name',
    'GRE0',
  ],
];

describe('sandbox topology and fault scripts', () => {
  it.each(SANDBOX)('%s: a clear error', async (_what, run, field, value) => {
    await expectClear(run, field, value);
  });
});

describe("directors' answers", () => {
  let answers: Record<string, unknown> = {};
  let server: Server;
  let baseUrl: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const body = answers[`${req.method} ${(req.url ?? '').split('?')[0]}`];
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body ?? null));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const zwan = () =>
    createZwanDirector({ site: 'DC', baseUrl, apiKey: async () => 'k', retries: 0, onMalformed: () => {} });
  const ZWAN: [
    what: string,
    key: string,
    body: unknown,
    run: (d: ReturnType<typeof zwan>) => unknown,
    field: string,
    value: unknown,
  ][] = [
    [
      'a listing without items',
      'GET /api/v1/tenants/t1/cpes',
      { cpes: [] },
      (d) => d.listCpes('t1'),
      'items',
      undefined,
    ],
    ['a listing that is an array', 'GET /api/v1/tenants/t1/cpes', [], (d) => d.listCpes('t1'), '(root)', []],
    [
      'a health report without a time',
      'POST /api/v1/tenants/t1/cpe-health',
      { results: [], unknownIds: [] },
      (d) => d.sampleHealth('t1', ['a']),
      'at',
      undefined,
    ],
    [
      'a health report whose results are an object',
      'POST /api/v1/tenants/t1/cpe-health',
      { at: '2026-12-01T10:00:00Z', results: {}, unknownIds: [] },
      (d) => d.sampleHealth('t1', ['a']),
      'results',
      {},
    ],
    [
      'a job in an unknown state',
      'GET /api/v1/jobs/j1',
      { jobId: 'j1', kind: 'backup', state: 'DONE', progressPct: 100 },
      (d) => d.getJob('j1'),
      'state',
      'DONE',
    ],
    [
      'a job at 150 %',
      'GET /api/v1/jobs/j1',
      { jobId: 'j1', kind: 'backup', state: 'RUNNING', progressPct: 150 },
      (d) => d.getJob('j1'),
      'progressPct',
      150,
    ],
    [
      'a site role that is not one',
      'GET /api/v1/site/role',
      { site: 'DC', role: 'PRIMARY' },
      (d) => d.getSiteRole(),
      'role',
      'PRIMARY',
    ],
    [
      'a management URL answer without url',
      'GET /api/v1/provisioning/management-url',
      {},
      (d) => d.getManagementUrl(),
      'url',
      undefined,
    ],
    [
      'a CPE answer without tunnels',
      'GET /api/v1/tenants/t1/cpes/c1',
      { id: 'c1', name: 'c1', tenantId: 't1', metadata: {}, lans: [], onboardedBy: 'ssh' },
      (d) => d.getCpe('t1', 'c1'),
      'tunnels',
      undefined,
    ],
    [
      'an SSH listing without items',
      'GET /api/v1/provisioning/ssh-onboarded-cpes',
      { next: 1 },
      (d) => d.listSshOnboarded(),
      'items',
      undefined,
    ],
  ];
  it.each(ZWAN)(
    'zWAN: %s is a DirectorResponseError naming the field',
    async (_what, key, body, run, field, value) => {
      answers = { [key]: body };
      await expectClear(() => run(zwan()), field, value);
    },
  );

  const MERAKI: [
    what: string,
    op: keyof typeof MERAKI_OPERATIONS,
    body: unknown,
    field: string,
    value: unknown,
  ][] = [
    ['a network without an id', 'readNetwork', { name: 'n', organizationId: '1', tags: [] }, 'id', undefined],
    [
      'a network whose tags are a string',
      'readNetwork',
      { id: 'N_1', name: 'n', organizationId: '1', tags: 'a b' },
      'tags',
      'a b',
    ],
    ['a listing that is an object', 'listNetworks', { items: [] }, '(root)', { items: [] }],
    ['a loss series that is an object', 'uplinksLossAndLatency', {}, '(root)', {}],
    [
      'a batch without an id',
      'readBatch',
      { status: { completed: true, failed: false, errors: [] } },
      'id',
      undefined,
    ],
  ];
  it.each(MERAKI)(
    'Meraki: %s is a DirectorResponseError naming the field',
    async (_what, op, body, field, value) => {
      await expectClear(() => parseMerakiResponse(MERAKI_OPERATIONS[op] as never, 200, body), field, value);
    },
  );
});

test('the suite covers at least 150 bad inputs', () => {
  const count =
    Object.values(CONSOLE).reduce((n, c) => n + c.length, 0) +
    DR.length +
    CONFIG.length +
    SANDBOX.length +
    10 +
    5;
  expect(count).toBeGreaterThanOrEqual(150);
});
