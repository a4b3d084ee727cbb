/** `npm run invoke` arguments and events (./local/invoke/args.ts), over the project's real functions/ folder. */
import { describe, expect, it } from '@jest/globals';
import {
  functionNames,
  loadEvent,
  machinesOf,
  parseInvokeArgs,
  sampleEvents,
} from '../../../local/invoke/args.js';

describe('invoke arguments', () => {
  it('takes a function, an event and --verbose; a state machine sets workflow and may take --approve', () => {
    expect(parseInvokeArgs(['pin', 'maintenance', '--verbose'])).toEqual({
      fn: 'pin',
      event: 'maintenance',
      verbose: true,
    });
    expect(parseInvokeArgs(['status'])).toEqual({ fn: 'status', verbose: false });
    expect(
      parseInvokeArgs([
        'SwitchoverDcToDr',
        'switchover-planned-with-approval',
        '--approve',
        'approval-task-output',
      ]),
    ).toEqual({
      fn: 'SwitchoverDcToDr',
      workflow: 'SwitchoverDcToDr',
      event: 'switchover-planned-with-approval',
      approve: 'approval-task-output',
      verbose: false,
    });
  });

  it('names the bad argument and what is expected', () => {
    expect(() => parseInvokeArgs(['nope'])).toThrow(
      /function="nope": expected ack-monitor-blind \| .*status \| .*Backup \| SwitchoverDcToDr \| FailbackDrToDc \| WeeklyDrill \| Rehearsal/,
    );
    expect(() => parseInvokeArgs([])).toThrow(/function=undefined: expected ack-monitor-blind/);
    expect(() => parseInvokeArgs(['pin', 'a', 'b'])).toThrow(/arguments="b": expected one event at most/);
    expect(() => parseInvokeArgs(['pin', '--force'])).toThrow(/option="--force": expected --approve <event>/);
    expect(() => parseInvokeArgs(['pin', 'maintenance', '--approve', 'x'])).toThrow(
      /--approve="x": expected only with a state machine/,
    );
    expect(() => parseInvokeArgs(['Backup', '--approve'])).toThrow(/--approve=undefined: expected an event/);
  });

  it('lists the functions that have a handler, and their samples', () => {
    expect(functionNames()).toEqual(
      expect.arrayContaining(['dr', 'pin', 'status', 'unpin', 'update-branches']),
    );
    expect(sampleEvents('pin')).toEqual(['force-onto-down.json', 'maintenance.json']);
    // A state machine's samples are the DR function's.
    expect(sampleEvents('Backup')).toContain('backup-on-demand.json');
    expect(sampleEvents('Rehearsal')).toContain('lab-chennai.json');
    expect(machinesOf('dr')).toEqual(['Backup', 'SwitchoverDcToDr', 'FailbackDrToDc', 'WeeklyDrill']);
    expect(machinesOf('rehearsal')).toEqual(['Rehearsal']);
    expect(machinesOf('pin')).toEqual([]);
  });
});

describe('invoke events', () => {
  it('reads inline JSON, a sample by name (with or without .json), a file, or {} when none', () => {
    expect(loadEvent('status', '{"tenantId":"lab-tenant"}')).toEqual({
      event: { tenantId: 'lab-tenant' },
      source: 'inline JSON',
    });
    const sample = loadEvent('pin', 'maintenance');
    expect(sample.event).toMatchObject({ tenantId: 'lab-tenant', haName: 'Chennai', expiresInMinutes: 480 });
    expect(sample.source).toMatch(/functions\/pin\/events\/maintenance\.json$/);
    expect(loadEvent('pin', 'maintenance.json').event).toEqual(sample.event);
    expect(loadEvent('Backup', 'backup-on-demand').event).toEqual({
      trigger: 'on-demand',
      reason: 'before the director upgrade',
    });
    expect(loadEvent('status', 'functions/status/events/all.json').event).toEqual({});
    expect(loadEvent('status', undefined)).toEqual({ event: {}, source: 'no event ({})' });
  });

  it('names a bad event: not JSON (with where it came from), or no such file or sample (listing them)', () => {
    expect(() => loadEvent('pin', '{"tenantId": lab')).toThrow(
      /invoke event is invalid: inline JSON=.*: expected valid JSON \(/,
    );
    expect(() => loadEvent('pin', 'nope')).toThrow(
      /event="nope": expected inline JSON, a JSON file, or a sample of pin \(force-onto-down.json, maintenance.json\)/,
    );
    expect(() => loadEvent('failover', 'nope')).toThrow(/a sample of failover \(it has none\)/);
  });
});
