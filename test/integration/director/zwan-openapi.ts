/**
 * Check logged simulator exchanges against shared/director/zwan/openapi.yaml with ajv: the
 * operation must exist, path and query parameters must match their schemas, the request body
 * must match the operation's request schema, and the response status must be declared with a
 * body matching its schema.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import type { SimRequestRecord } from '../../../local/simulator/index.js';

// ajv-formats is CommonJS; under ESM its default export may be wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

type Json = Record<string, unknown>;

interface Operation {
  method: string;
  template: string;
  segments: string[];
  operationId: string;
  op: Json;
}

/** A validator over the zWAN OpenAPI document. */
export interface ZwanContract {
  /** Violations of one exchange (empty when it conforms). */
  check(
    record: Pick<SimRequestRecord, 'method' | 'path' | 'query' | 'requestBody' | 'status' | 'responseBody'>,
  ): string[];
  /** Violations of many exchanges, each prefixed with the exchange. */
  checkAll(records: readonly SimRequestRecord[]): string[];
  /** The operationIds of the document. */
  operationIds: string[];
}

/** Load the contract from the repository. */
export function loadZwanContract(): ZwanContract {
  const path = new URL('../../../shared/director/zwan/openapi.yaml', import.meta.url);
  const doc = parse(readFileSync(path, 'utf8')) as Json;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // Register the document so `$ref`s resolve inside it: every local ref becomes `zwan#/…`, and
  // inline schemas are compiled on their own (cached per schema object).
  rewriteRefs(doc);
  ajv.addSchema(doc, 'zwan');
  const cache = new WeakMap<object, ValidateFunction>();
  const validator = (schema: Json): ValidateFunction => {
    let v = cache.get(schema);
    if (!v) {
      v = ajv.compile(schema);
      cache.set(schema, v);
    }
    return v;
  };
  const deref = (node: Json): Json => {
    const ref = node.$ref;
    if (typeof ref !== 'string') return node;
    let cur: unknown = doc;
    for (const part of ref.slice('zwan#/'.length).split('/')) cur = (cur as Json)[part];
    return cur as Json;
  };

  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths as Json)) {
    for (const [method, op] of Object.entries(item as Json)) {
      operations.push({
        method: method.toUpperCase(),
        template,
        segments: template.split('/').slice(1),
        operationId: (op as Json).operationId as string,
        op: op as Json,
      });
    }
  }

  function find(method: string, path: string): { op?: Operation; params: Record<string, string> } {
    const segs = path.split('/').slice(1);
    // Prefer the template with the most literal segments (no ambiguity in this document).
    const candidates = operations
      .filter((o) => o.method === method && o.segments.length === segs.length)
      .map((o) => {
        const params: Record<string, string> = {};
        const ok = o.segments.every((s, i) => {
          const value = decodeURIComponent(segs[i] ?? '');
          if (s.startsWith('{')) {
            params[s.slice(1, -1)] = value;
            return true;
          }
          return s === value;
        });
        return { o, ok, params, literals: o.segments.filter((s) => !s.startsWith('{')).length };
      })
      .filter((c) => c.ok)
      .sort((a, b) => b.literals - a.literals);
    const best = candidates[0];
    return best ? { op: best.o, params: best.params } : { params: {} };
  }

  const errors = (v: ValidateFunction) =>
    (v.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`);

  function check(
    r: Pick<SimRequestRecord, 'method' | 'path' | 'query' | 'requestBody' | 'status' | 'responseBody'>,
  ): string[] {
    const out: string[] = [];
    const { op, params } = find(r.method, r.path);
    if (!op) return [`no operation ${r.method} ${r.path} in the contract`];
    const declared = (op.op.parameters as Json[] | undefined)?.map(deref) ?? [];
    for (const p of declared) {
      const name = p.name as string;
      const where = p.in as string;
      const raw = where === 'path' ? params[name] : where === 'query' ? r.query[name] : undefined;
      if (raw === undefined) {
        if (p.required) out.push(`missing required ${where} parameter ${name}`);
        continue;
      }
      const schema = p.schema as Json;
      const value = schema.type === 'integer' || schema.type === 'number' ? Number(raw) : raw;
      const v = validator(schema);
      if (!v(value)) out.push(`${where} parameter ${name}=${raw}: ${errors(v).join(', ')}`);
    }
    const names = new Set(declared.filter((d) => d.in === 'query').map((d) => d.name as string));
    for (const q of Object.keys(r.query)) if (!names.has(q)) out.push(`undeclared query parameter ${q}`);

    const body = op.op.requestBody as Json | undefined;
    if (body) {
      if (r.requestBody === undefined) {
        if (body.required) out.push('missing required request body');
      } else {
        const v = validator(((body.content as Json)['application/json'] as Json).schema as Json);
        if (!v(r.requestBody)) out.push(`request body: ${errors(v).join(', ')}`);
      }
    } else if (r.requestBody !== undefined) out.push('a request body where the contract has none');

    if (r.status === 0) return out; // dropped or hung by an injected fault: no response
    const responses = op.op.responses as Json;
    const declaredResponse = responses[String(r.status)] ?? responses.default;
    if (!declaredResponse) {
      out.push(`status ${r.status} is not declared (declared: ${Object.keys(responses).join(', ')})`);
      return out;
    }
    const res = deref(declaredResponse as Json);
    const content = res.content as Json | undefined;
    if (!content) {
      if (r.responseBody !== undefined) out.push(`status ${r.status} has no body in the contract`);
      return out;
    }
    const v = validator((content['application/json'] as Json).schema as Json);
    if (!v(r.responseBody)) out.push(`response ${r.status}: ${errors(v).join(', ')}`);
    return out;
  }

  return {
    check,
    checkAll: (records) =>
      records.flatMap((r) => check(r).map((e) => `#${r.seq} ${r.method} ${r.path} → ${r.status}: ${e}`)),
    operationIds: operations.map((o) => o.operationId),
  };
}

/** Make every local `$ref` (`#/…`) absolute (`zwan#/…`), in place. */
function rewriteRefs(node: unknown): void {
  if (Array.isArray(node)) node.forEach(rewriteRefs);
  else if (node && typeof node === 'object') {
    const o = node as Json;
    if (typeof o.$ref === 'string' && o.$ref.startsWith('#/')) o.$ref = `zwan${o.$ref}`;
    Object.values(o).forEach(rewriteRefs);
  }
}
