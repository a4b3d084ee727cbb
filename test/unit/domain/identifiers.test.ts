import fc from 'fast-check';
import {
  FREE_TEXT_MAX_CHARS,
  IDENTIFIER_MAX_CHARS,
  isFreeText,
  isIdentifier,
  requireConfiguredTenant,
} from '../../../shared/domain/identifiers.js';
import { parseInventory } from '../../../shared/domain/inventory.js';
import { ValidationError } from '../../../shared/errors.js';

describe('identifiers', () => {
  it.each([
    't1',
    'tenant-a',
    'Chennai HA',
    'N_573083052582988629',
    'N_1→london',
    'a.b',
    '…',
    'x'.repeat(IDENTIFIER_MAX_CHARS),
    // The bound counts characters (code points): 128 of them in 256 UTF-16 units.
    '🛰'.repeat(IDENTIFIER_MAX_CHARS),
  ])('accepts %j', (v) => expect(isIdentifier(v)).toBe(true));
  it.each([
    ['empty', ''],
    ['dot', '.'],
    ['dot-dot', '..'],
    ['a #', 'x#G'],
    ['a slash', 'a/b'],
    ['a backslash', 'a\\b'],
    ['a newline', 'a\nb'],
    ['a NUL', 'a\u0000'],
    ['a bidi override', 'a\u202Eb'],
    ['surrounding spaces', ' t1 '],
    ['too long', 'x'.repeat(IDENTIFIER_MAX_CHARS + 1)],
    ['too long in characters outside the BMP', '🛰'.repeat(IDENTIFIER_MAX_CHARS + 1)],
    ['not a string', 42],
  ])('refuses %s', (_what, v) => expect(isIdentifier(v)).toBe(false));

  it('no two (tenant, HA_NAME) pairs of identifiers make the same group key', () => {
    const ident = fc.string({ minLength: 1, maxLength: 8 }).filter(isIdentifier);
    fc.assert(
      fc.property(ident, ident, ident, ident, (t1, g1, t2, g2) => {
        fc.pre(t1 !== t2 || g1 !== g2);
        return `${t1}#${g1}` !== `${t2}#${g2}`;
      }),
    );
  });

  it('free text: one line, bounded', () => {
    expect(isFreeText('DC maintenance, ticket #4711 (ops@example.net)')).toBe(true);
    expect(isFreeText('x'.repeat(FREE_TEXT_MAX_CHARS))).toBe(true);
    expect(isFreeText('x'.repeat(FREE_TEXT_MAX_CHARS + 1))).toBe(false);
    expect(isFreeText('é'.normalize('NFD').repeat(FREE_TEXT_MAX_CHARS / 2))).toBe(true);
    expect(isFreeText('🛰'.repeat(FREE_TEXT_MAX_CHARS))).toBe(true);
    expect(isFreeText('🛰'.repeat(FREE_TEXT_MAX_CHARS + 1))).toBe(false);
    expect(isFreeText('subject\r\nBcc: someone@example.net')).toBe(false);
    expect(isFreeText('tab\there')).toBe(false);
    expect(isFreeText('line\u2028separator')).toBe(false);
    expect(isFreeText('Teheran group گروه\u200cتهران')).toBe(true);
  });

  it('an unconfigured tenant is a ValidationError naming it and the configured ones', () => {
    expect(requireConfiguredTenant(['t1', 't2'], 't2', 'status')).toBe('t2');
    expect(() => requireConfiguredTenant(['t1', 't2'], '..', 'status')).toThrow(ValidationError);
    expect(() => requireConfiguredTenant(['t1', 't2'], 'other', 'status')).toThrow(
      /tenantId="other": expected a configured tenant \("t1", "t2"\)/,
    );
  });
});

describe('inventory: a CPE with a bad identifier is one invalid CPE, the rest monitored', () => {
  const cpe = (id: string, haName: string, state: string, tunnelId: string) => ({
    id,
    name: id,
    tenantId: 't1',
    metadata: { CPE_TYPE: 'DC', CPE_MODE: 'HA', HA_STATE: state, HA_NAME: haName },
    lans: [],
    tunnels: [{ name: 'IPSEC00', haTunnelIdentifier: 'IPSEC00', tunnelId, state: 'ESTABLISHED' as const }],
  });
  it('a 10 KB HA_NAME, a # in an HA_NAME and a / in a CPE id are reported; the good CPEs form their group', () => {
    const inventory = parseInventory([
      {
        tenantId: 't1',
        cpes: [
          cpe('c1', 'G', 'ACTIVE', 'T1'),
          cpe('c2', 'x'.repeat(10_000), 'PASSIVE', 'T2'),
          cpe('c3', 'x#G', 'PASSIVE', 'T3'),
          cpe('../c4', 'G', 'PASSIVE', 'T4'),
          cpe('c5', 'G', 'PASSIVE', 'T5'),
        ],
      },
    ]);
    expect(inventory.tenants[0]?.groups.map((g) => [g.key, g.candidates.map((c) => c.id)])).toEqual([
      ['t1#G', ['c1', 'c5']],
    ]);
    expect(inventory.invalid.map((i) => [i.cpeId, i.field])).toEqual([
      ['c2', 'HA_NAME'],
      ['c3', 'HA_NAME'],
      ['../c4', 'id'],
    ]);
  });
});
