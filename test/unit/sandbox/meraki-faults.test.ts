/** The Meraki fault script (local/sandbox/meraki-faults.ts): parsing, checks at parse time, descriptions. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFaultScript } from '../../../local/sandbox/faults.js';
import { MERAKI_SANDBOX_ORG } from '../../../local/sandbox/meraki-org.js';
import {
  describeMerakiFault,
  MERAKI_DEFAULT_FAULTS,
  type MerakiFaultStep,
  parseMerakiFaultScript,
} from '../../../local/sandbox/meraki-faults.js';
import { ValidationError } from '../../../shared/errors.js';

const parse = (text: string) => parseMerakiFaultScript(text, MERAKI_SANDBOX_ORG);
const dir = mkdtempSync(join(tmpdir(), 'meraki-faults-'));

function issue(text: string): string {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error(`no error for ${text}`);
}

describe('Meraki fault script', () => {
  it('reads every action with simulated times (minutes, seconds, bare seconds), sorted by time', () => {
    const steps = parse(
      [
        '13m loss N_1 london 0',
        '4m loss N_2 paris 45 80',
        '90s hub-down london',
        '95 hub-up london',
        '2m uplink-loss N_1 wan1 40',
        '2.5m uplink-down N_1 wan1',
        '3m uplink-up N_1 wan1',
        '5m tunnel-down N_2 paris',
        '6m tunnel-up N_2 paris',
        '7m dashboard 5xx 10',
        '7.5m dashboard 429 50',
        '8m dashboard storm 2m',
        '9m tag-add N_3 maintenance',
        '9.5m tag-remove N_3 london_primary_up',
        '20m heal',
      ].join('; '),
    );
    expect(steps.map((s) => [s.atSec, s.action, ...s.args])).toEqual([
      [90, 'hub-down', 'london'],
      [95, 'hub-up', 'london'],
      [120, 'uplink-loss', 'N_1', 'wan1', '40'],
      [150, 'uplink-down', 'N_1', 'wan1'],
      [180, 'uplink-up', 'N_1', 'wan1'],
      [240, 'loss', 'N_2', 'paris', '45', '80'],
      [300, 'tunnel-down', 'N_2', 'paris'],
      [360, 'tunnel-up', 'N_2', 'paris'],
      [420, 'dashboard', '5xx', '10'],
      [450, 'dashboard', '429', '50'],
      [480, 'dashboard', 'storm', '2m'],
      [540, 'tag-add', 'N_3', 'maintenance'],
      [570, 'tag-remove', 'N_3', 'london_primary_up'],
      [780, 'loss', 'N_1', 'london', '0'],
      [1200, 'heal'],
    ]);
    expect(parse(MERAKI_DEFAULT_FAULTS)).toHaveLength(2);
  });

  it('names an unknown network, hub or uplink when the script is parsed, with what is allowed', () => {
    expect(issue('4m loss N_9 london 45')).toMatch(
      /0 \("4m loss N_9 london 45"\)\.args\.0="N_9": expected a network of the sandbox organization: "N_1", "N_2", "N_3"/,
    );
    expect(issue('1m ok; 4m tunnel-down N_1 rome')).toMatch(/\.action="ok": expected loss \| hub-down/);
    expect(issue('4m tunnel-down N_1 rome')).toMatch(
      /args\.1="rome": expected a hub of the sandbox organization/,
    );
    expect(issue('4m uplink-down N_1 wan9')).toMatch(/args\.1="wan9": expected wan1 \| wan2 \| cellular/);
  });

  it('names bad values, counts and times', () => {
    expect(issue('4m loss N_1 london 140')).toMatch(/args\.2="140": expected a loss % 0–100/);
    expect(issue('4m loss N_1 london')).toMatch(
      /args=\["N_1","london"\]: expected <network> <hub> <pct> <ms>\? for loss/,
    );
    expect(issue('4m dashboard 5xx')).toMatch(/args=\["5xx"\]: expected <mode> <amount> for dashboard/);
    expect(issue('4m dashboard 429 0')).toMatch(/args\.1="0": expected a request count > 0/);
    expect(issue('4m dashboard storm 3x')).toMatch(/args\.1="3x": expected a simulated time > 0/);
    expect(issue('4m dashboard slow 3')).toMatch(/args\.0="slow": expected 5xx \| 429 \| storm/);
    expect(issue('4h heal')).toMatch(/\.at="4h": expected a simulated time >= 0/);
    expect(issue('[{"at": -1, "action": "heal"}]')).toMatch(/0\.at=-1: expected a simulated time >= 0/);
  });

  it('reads a JSON file; a missing file says file not found (both worlds)', () => {
    const path = join(dir, 'faults.json');
    writeFileSync(path, JSON.stringify([{ at: 240, action: 'hub-down', args: ['paris'] }]));
    expect(parse(path)).toEqual([{ atSec: 240, action: 'hub-down', args: ['paris'] }]);
    const missing = join(dir, 'missing.json');
    expect(issue(missing)).toMatch(
      /\(file\)=".*missing.json": expected an existing JSON file \(file not found\)/,
    );
    expect(() => parseFaultScript(missing)).toThrow(/file not found/);
    writeFileSync(join(dir, 'object.json'), '{"at": 1}');
    expect(issue(join(dir, 'object.json'))).toMatch(/expected a JSON array of steps/);
  });

  it("describes a step as the sandbox prints it (loss in the demo's words)", () => {
    const [loss, heal] = parse('4m loss N_1 london 45; 13.5m heal');
    expect(describeMerakiFault(loss as MerakiFaultStep)).toBe(
      "N_1 → london loss 45% (simulated minute 4; the Dashboard's series shows it 2 minutes later)",
    );
    expect(describeMerakiFault(heal as MerakiFaultStep)).toBe('heal (simulated minute 13.5)');
  });
});
