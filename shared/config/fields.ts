/**
 * zod schemas of the two kinds of operator-entered strings, over the domain's one statement of
 * them (shared/domain/identifiers.ts): an identifier (tenant id, HA_NAME, CPE id) and a line of
 * free text (a reason, `by`). Surrounding spaces are trimmed first.
 */
import * as z from 'zod/mini';
import './zod-locale.js';
import { FREE_TEXT_EXPECTED, IDENTIFIER_EXPECTED, isFreeText, isIdentifier } from '../domain/identifiers.js';

/** A tenant id, HA_NAME or CPE id. */
export const identifierSchema = z
  .string()
  .check(z.trim(), z.minLength(1, 'a non-empty string'), z.refine(isIdentifier, IDENTIFIER_EXPECTED));

/** A reason or `by`: one non-empty line, bounded. */
export const freeTextSchema = z
  .string()
  .check(z.trim(), z.minLength(1, 'a non-empty string'), z.refine(isFreeText, FREE_TEXT_EXPECTED));
