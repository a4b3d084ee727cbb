/**
 * `npm start -- --director meraki` end to end, programmatically, at time scale 60 (a simulated
 * minute per second): branch N_1 loses 45 % to its primary hub → its tags swap to the backup;
 * after 5 clean (simulated) minutes → they swap back. Both swaps are printed as they happen.
 */
import { describe, expect, it } from '@jest/globals';
import { parseSandboxArgs } from '../../local/sandbox/args.js';
import { runSandboxUntil } from './run-sandbox.js';

describe('sandbox Meraki mode', () => {
  it('swaps N_1 to the backup hub on loss and back after the clean hold, printing both', async () => {
    const lines = await runSandboxUntil(
      ['--director', 'meraki', '--time-scale', '60', '--duration', '60'],
      /meraki N_1: tags swapped, tunnel paris → london/,
    );
    const text = lines.join('\n');
    const index = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const loss = index(/fault: N_1 → london loss 45%/);
    const down = index(/sandbox-org#N_1\s+Branch 1 → london \(DC\/ACTIVE\)\s+UP → DOWN/);
    const away = index(
      /meraki N_1: tags swapped, tunnel london → paris\s+\[branch london_primary_down paris_backup_up\]/,
    );
    const clean = index(/fault: N_1 → london loss 0%/);
    const up = index(/sandbox-org#N_1\s+Branch 1 → london \(DC\/ACTIVE\)\s+DOWN → UP\s+clean for 300 s/);
    const back = index(
      /meraki N_1: tags swapped, tunnel paris → london\s+\[branch london_primary_up paris_backup_down\]/,
    );
    expect([loss >= 0, down > loss, away > down, clean > away, up > clean, back > up, text]).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
      text,
    ]);
    // Only N_1 moved.
    expect(lines.filter((l) => /meraki N_[23]: tags swapped/.test(l))).toEqual([]);
    expect(lines.at(-1)).toMatch(/stopped$/);
  }, 90_000);

  it('rejects an unknown director, zWAN-only flags and zWAN fault steps in Meraki mode, naming them', () => {
    expect(() => parseSandboxArgs(['--director', 'viptela'])).toThrow(
      /--director="viptela": expected zwan or meraki/,
    );
    expect(() => parseSandboxArgs(['--director', 'meraki', '--topology', 'lab.json'])).toThrow(
      /--topology="lab.json"/,
    );
    expect(() => parseSandboxArgs(['--director', 'meraki', '--faults', '5s down HA_DC1'])).toThrow(
      /\.action="down": expected loss \| hub-down/,
    );
  });
});
