import { lenientTextSchema } from '../../../shared/config/fields.js';

test("an approver's note is never refused: made one line and cut to 500 characters", () => {
  expect(lenientTextSchema.parse('Approved per INC-4711.\r\nBridge\tcall at 10:30')).toBe(
    'Approved per INC-4711. Bridge call at 10:30',
  );
  expect([...lenientTextSchema.parse('é'.repeat(900))]).toHaveLength(500);
  expect(lenientTextSchema.parse('')).toBe('');
  expect(lenientTextSchema.safeParse(42).success).toBe(false);
});
