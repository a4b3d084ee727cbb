/** The SNS adapter of the rehearsal's report: subject from the summary (ASCII, ≤ 100), the report as JSON, a kind attribute. */
import { SnsRehearsalPublisher } from '../../../shared/rehearsal/publishers.js';
import type { RehearsalReport } from '../../../shared/rehearsal/report.js';

const REPORT: RehearsalReport = {
  outcome: 'ABORTED',
  executionId: 'arn:x:e1',
  tenantId: 'lab-tenant',
  haName: 'Chennai',
  groupKey: 'lab-tenant#Chennai',
  original: 'HA_DC1',
  target: 'HA_DC2',
  window: { notBefore: '2026-12-01T10:00:00Z', notAfter: '2026-12-01T11:00:00Z' },
  reason: 'check',
  requestedBy: 'noc@example.com',
  error: { name: 'RehearsalNotReachedError', message: 'not ESTABLISHED on HA_DC2 within 60 s: BR2 (…)' },
  branches: [{ branchId: 'BR2', moved: true, reached: false, returned: true, failure: 'x' }],
  pinLeft: false,
  at: '2026-12-01T10:02:00Z',
  summary:
    'rehearsal of lab-tenant#Chennai HA_DC1 → HA_DC2 → HA_DC1: aborted and restored (1/2 reached, 2/2 returned): RehearsalNotReachedError: not ESTABLISHED on HA_DC2 within 60 s',
};

it('publishes the summary as an ASCII subject of at most 100 characters and the report as JSON', async () => {
  const sent: {
    Subject?: string;
    Message?: string;
    MessageAttributes?: Record<string, { StringValue?: string }>;
  }[] = [];
  const sns = new SnsRehearsalPublisher(
    { send: async (c: { input: object }) => sent.push(c.input) } as never,
    'arn:topic',
  );
  await sns.publish(REPORT);
  const [m] = sent;
  expect(m?.Subject).toBe(
    '[REHEARSAL ABORTED] lab-tenant#Chennai HA_DC1 -> HA_DC2 -> HA_DC1: aborted and restored (1/2 reached',
  );
  expect(m?.Subject?.length).toBe(100);
  expect(m?.Message?.split('\n')[0]).toBe(REPORT.summary);
  expect(JSON.parse(m?.Message?.slice(m.Message.indexOf('{')) ?? '')).toEqual(REPORT);
  expect(m?.MessageAttributes?.kind?.StringValue).toBe('REHEARSAL');
  expect(m?.MessageAttributes?.outcome?.StringValue).toBe('ABORTED');
});
