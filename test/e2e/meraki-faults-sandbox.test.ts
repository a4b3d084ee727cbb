/**
 * `npm start -- --director meraki --faults …` end to end at time scale 60: a fault script on the
 * Meraki timeline moves a branch. An operator tags N_2 `maintenance` in the Dashboard, then N_2
 * loses 80 % to london: its path goes DOWN and its tags swap to paris, keeping the operator's tag.
 */
import { describe, expect, it } from '@jest/globals';
import { runSandboxUntil } from './run-sandbox.js';

describe('sandbox Meraki mode with a fault script', () => {
  it("moves the branch the script hurts, and only that one, keeping the operator's tag", async () => {
    const lines = await runSandboxUntil(
      [
        '--director',
        'meraki',
        '--time-scale',
        '60',
        '--duration',
        '90',
        '--faults',
        '2m tag-add N_2 maintenance; 4m loss N_2 london 80',
      ],
      /meraki N_2: tags swapped, tunnel london → paris/,
    );
    const text = lines.join('\n');
    const index = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const tag = index(/fault: tag-add N_2 maintenance \(simulated minute 2\)/);
    const loss = index(/fault: N_2 → london loss 80% \(simulated minute 4;/);
    const down = index(/sandbox-org#N_2\s+Branch 2 → london \(DC\/ACTIVE\)\s+UP → DOWN/);
    const swap = index(
      /meraki N_2: tags swapped, tunnel london → paris\s+\[branch london_primary_down paris_backup_up maintenance\]/,
    );
    expect([tag >= 0, loss > tag, down > loss, swap > down, text]).toEqual([true, true, true, true, text]);
    // The default demo does not run when a script is given, and nothing else moved.
    expect(text).not.toMatch(/N_1 → london loss 45%/);
    expect(lines.filter((l) => /meraki N_[13]: tags swapped/.test(l))).toEqual([]);
  }, 150_000);
});
