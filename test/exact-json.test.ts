// The executor's JSON of warehouse values: numbers a double would change are read and written
// with every digit, everything else as JSON.parse and JSON.stringify do; and the places a value
// is written as text (templates, requests, object formats) write those digits.
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { ExactNumber, parseJson, stringifyJson } from '../src/run/exact-json.js';
import { buildRequest } from '../src/run/http/request.js';
import { encodeObject, parquetRowGroup } from '../src/run/sinks/formats.js';
import { compileMessage, envFrom, render, type Json, type RenderContext } from '../src/run/template.js';

/** Numbers whose text a double changes: each comes back as itself. */
const exact = [
  '9007199254740993',
  '-9007199254740993',
  '18446744073709551615',
  '12345678901234567.89',
  '-12345678901234567.89',
  '0.12345678901234567891',
  '123456789012345678901234567890',
  '1e400',
  '-1E400',
  '1e-400',
  '2.5E+400',
  '4.9e-324',
  '-0',
  '-0.0',
  '-0e5',
];

/** Numbers a double keeps (by value): plain numbers, as JSON.parse reads them. */
const plain = [
  '0',
  '5.00',
  '0.1',
  '1E-5',
  '1e-5',
  '-1.5e3',
  '1e21',
  '9007199254740992',
  '-9007199254740991',
  '0.30000000000000004',
  '1.7976931348623157e308',
  '5e-324',
  '100000000000000000000',
  '-0.5',
];

async function bytes(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

async function* records(list: Json[]): AsyncGenerator<Json> {
  yield* list;
}

describe('parseJson and stringifyJson', () => {
  it('keeps the digits of every number a double changes, alone, nested, and at the top level', () => {
    for (const n of exact) {
      const v = parseJson(n);
      expect(v, n).toBeInstanceOf(ExactNumber);
      expect(String(v)).toBe(n);
      expect(stringifyJson(v)).toBe(n);
      const doc = `{"a":[1,${n},{"b":${n}}],"c":${n},"d":"${n}"}`;
      expect(stringifyJson(parseJson(doc)), doc).toBe(doc);
    }
  });

  it('reads a number a double keeps as a plain number, as JSON.parse does', () => {
    for (const n of plain) {
      expect(parseJson(n), n).toBe(JSON.parse(n));
      // Beside a number that forces the exact reading, it is still a plain number.
      expect(parseJson(`[${n}, 9007199254740993]`), n).toEqual([JSON.parse(n), new ExactNumber('9007199254740993')]);
    }
    expect(stringifyJson(parseJson('[5.00, 1E-5, 0.30000000000000004]'))).toBe('[5,0.00001,0.30000000000000004]');
    // A numeric division's scale (Postgres: 123 / 10.0 is 12.3000000000000000) is kept by a double; a string holding digits
    // or a quote is no number; the number after them is read exactly all the same.
    const row = '{"amount": 12.3000000000000000, "note": "\\":9007199254740993, \\"", "id": 9007199254740993}';
    expect(parseJson(row)).toEqual({ amount: 12.3, note: '":9007199254740993, "', id: new ExactNumber('9007199254740993') });
    expect(parseJson('{"amount": 12.3000000000000000, "note": "9007199254740993"}')).toEqual({ amount: 12.3, note: '9007199254740993' });
  });

  it('keeps the value of random numbers, of any length, fraction and exponent, wherever a document has them', () => {
    // The value a number's text denotes, one spelling per value: sign, digits without the zeros around them, exponent.
    const value = (t: string) => {
      const [, sign, int, fraction = '', exponent = '0'] = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(t) as string[];
      const digits = BigInt(`${int}${fraction}`);
      if (digits === 0n) return `${sign}0`;
      let d = digits.toString();
      let e = BigInt(exponent) - BigInt(fraction.length);
      while (d.endsWith('0')) [d, e] = [d.slice(0, -1), e + 1n];
      return `${sign}${d}e${e}`;
    };
    // mulberry32: the same cases on every run.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n);
    };
    const digits = (n: number) => Array.from({ length: n }, () => random(10)).join('');
    for (let i = 0; i < 5000; i++) {
      const int = random(4) === 0 ? '0' : `${1 + random(9)}${digits(random(24))}`;
      const t = `${random(2) ? '-' : ''}${int}${random(2) ? `.${digits(1 + random(20))}` : ''}${random(3) === 0 ? `${random(2) ? 'e' : 'E'}${['', '+', '-'][random(3)]}${digits(1 + random(3))}` : ''}`;
      const out = stringifyJson(parseJson(`{"a": [ ${t} ], "b": ${t}}`)).match(/^\{"a":\[(.*)\],"b":(.*)\}$/) as string[];
      expect([value(out[1] as string), value(out[2] as string)], t).toEqual([value(t), value(t)]);
    }
  });

  it('parses as JSON.parse does: whitespace, escapes, nesting, __proto__ as a member, duplicate keys, errors', () => {
    // A string of 16 digits makes parseJson take its own reading of the whole document.
    const docs = [
      ' { "s" : "1234567890123456", "e": "\\u00e9\\n\\"\\\\\\/", "n": [ ] , "o": { }, "t": true, "f": false, "z": null, "x": [1, -2.5, 3e2] } ',
      '{"__proto__": {"polluted": "1234567890123456"}, "k": 1, "k": 2}',
      '[[[["1234567890123456"]]], {"a": {"b": {"c": []}}}]',
      '"1234567890123456"',
    ];
    for (const d of docs) expect(parseJson(d), d).toEqual(JSON.parse(d));
    const proto = parseJson(docs[1] as string) as Record<string, unknown>;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.keys(proto)).toEqual(['__proto__', 'k']);
    for (const bad of [
      '[9007199254740993,]',
      '{"a":9007199254740993,}',
      '[01, 9007199254740993]',
      '[1., 9007199254740993]',
      '[-, 9007199254740993]',
      '9007199254740993 1',
      '{"a" 9007199254740993}',
      '["\u0001", 9007199254740993]',
      '[9007199254740993',
      'nul',
    ])
      expect(() => parseJson(bad), bad).toThrow(SyntaxError);
  });

  it('writes what JSON.stringify writes, indented too, with an ExactNumber as its text', () => {
    const n = new ExactNumber('9007199254740993');
    const value = { a: [1, n, undefined, () => 1], b: { c: n, skip: undefined }, e: [], o: {}, d: new Date(0), s: 'é"' };
    const same = { a: [1, 424242, undefined, () => 1], b: { c: 424242, skip: undefined }, e: [], o: {}, d: new Date(0), s: 'é"' };
    expect(stringifyJson(value)).toBe(JSON.stringify(same).replaceAll('424242', '9007199254740993'));
    expect(stringifyJson(value, 2)).toBe(JSON.stringify(same, null, 2).replaceAll('424242', '9007199254740993'));
    expect(stringifyJson(same, 2)).toBe(JSON.stringify(same, null, 2));
    // A JSON.stringify that meets one anyway writes its digits, quoted, never a rounded number.
    expect(JSON.stringify({ n })).toBe('{"n":"9007199254740993"}');
  });
});

describe('exact numbers where values are written', () => {
  const payload = parseJson('{"ext_id": 9007199254740993, "amount": 12345678901234567.89, "attrs": {"parent": 1e400}, "n": 2}') as Json;
  const ctx: RenderContext = { vars: {}, run: {}, row: { key: '1', payload, columns: payload } };
  const options = { env: envFrom({}), message: compileMessage('{{ext_id}} owes {{amount}} <{{attrs.parent}}>', 'slack') };
  const r = (t: unknown) => render(t as never, ctx, options);

  it('templates: $concat, $json, $quote, $join, $merge, $compact, $switch, $replace, messages and the json helper', () => {
    expect(r({ $concat: ['id ', { $ref: 'row.payload.ext_id' }] })).toBe('id 9007199254740993');
    expect(r({ $replace: [{ $ref: 'row.payload.ext_id' }, '00', '-'] })).toBe('9-7199254740993');
    expect(r({ $replace: [{ $concat: ['123-456-', { $ref: 'row.payload.n' }] }, '-', ''] })).toBe('1234562');
    expect(r({ $json: { $ref: 'row.payload' } })).toBe('{"ext_id":9007199254740993,"amount":12345678901234567.89,"attrs":{"parent":1e400},"n":2}');
    expect(r({ $quote: [{ $ref: 'row.payload.amount' }, "'", '\\'] })).toBe("'12345678901234567.89'");
    expect(r({ $join: [[{ $ref: 'row.payload.ext_id' }, { $ref: 'row.payload.n' }], ','] })).toBe('9007199254740993,2');
    expect(stringifyJson(r({ $merge: [{ $ref: 'row.payload' }, { n: 3 }] }))).toBe(
      '{"ext_id":9007199254740993,"amount":12345678901234567.89,"attrs":{"parent":1e400},"n":3}',
    );
    expect(() => r({ $merge: [{ $ref: 'row.payload.ext_id' }] })).toThrow('$merge takes objects');
    expect(r({ $compact: { $ref: 'row.payload.ext_id' } })).toBeInstanceOf(ExactNumber);
    expect(r({ $switch: [{ $ref: 'row.payload.ext_id' }, { '9007199254740993': 'big' }] })).toBe('big');
    // An exact number has no members a path could reach.
    expect(r({ $ref: 'row.payload.ext_id.length' })).toBeNull();
    expect(r({ $message: null })).toBe('9007199254740993 owes 12345678901234567.89 <1e400>');
    const json = { env: envFrom({}), message: compileMessage('{"id": {{json ext_id}}, "all": {{json attrs}} }') };
    expect(stringifyJson(render({ $message: 'json' }, ctx, json))).toBe('{"id":9007199254740993,"all":{"parent":1e400}}');
  });

  it('requests: URL path, query, header, JSON and form bodies', () => {
    const ext = { $ref: 'row.payload.ext_id' };
    const req = buildRequest(
      {
        method: 'POST',
        url: { $concat: ['https://api.example.com/v1/accounts/', ext] },
        query: { amount: { $ref: 'row.payload.amount' } },
        headers: { 'X-Ext': ext },
        body: { encoding: 'json', template: { ext, list: [ext, { $ref: 'row.payload.n' }] } },
      },
      ctx,
      options,
    );
    expect(req).toEqual({
      method: 'POST',
      url: 'https://api.example.com/v1/accounts/9007199254740993?amount=12345678901234567.89',
      headers: { 'X-Ext': '9007199254740993', 'Content-Type': 'application/json' },
      body: '{"ext":9007199254740993,"list":[9007199254740993,2]}',
    });
    const form = buildRequest(
      { method: 'POST', url: 'https://h.example.com/', headers: {}, body: { encoding: 'form', template: { ext, attrs: { $ref: 'row.payload.attrs' } } } },
      ctx,
      options,
    );
    expect(form.body).toBe(`ext=9007199254740993&attrs=${encodeURIComponent('{"parent":1e400}')}`);
  });

  it('objects: csv cells, json lines, and Parquet columns as text where a double would change a value', async () => {
    const rows = [payload, parseJson('{"ext_id": 7, "amount": 0.5, "attrs": {"parent": 2}, "n": 3}') as Json];
    const columns = ['ext_id', 'amount', 'attrs', 'n'];
    expect(Buffer.from(await bytes(encodeObject('csv', columns, records(rows)))).toString()).toBe(
      'ext_id,amount,attrs,n\r\n9007199254740993,12345678901234567.89,"{""parent"":1e400}",2\r\n7,0.5,"{""parent"":2}",3\r\n',
    );
    expect(Buffer.from(await bytes(encodeObject('jsonl', columns, records(rows)))).toString()).toBe(
      '{"ext_id":9007199254740993,"amount":12345678901234567.89,"attrs":{"parent":1e400},"n":2}\n{"ext_id":7,"amount":0.5,"attrs":{"parent":2},"n":3}\n',
    );
    const parquet = await bytes(encodeObject('parquet', columns, records(rows)));
    expect(await parquetReadObjects({ file: new Uint8Array(parquet).buffer })).toEqual([
      { ext_id: '9007199254740993', amount: '12345678901234567.89', attrs: '{"parent":1e400}', n: 2 },
      { ext_id: '7', amount: '0.5', attrs: '{"parent":2}', n: 3 },
    ]);
    // A column typed DOUBLE by its first row group cannot take one later: the object fails, nothing is rounded.
    const later = [...Array.from({ length: parquetRowGroup }, () => ({ n: 1 })), { n: new ExactNumber('9007199254740993') }];
    await expect(bytes(encodeObject('parquet', ['n'], records(later)))).rejects.toThrow(
      'Parquet column n holds numbers in its first rows, then 9007199254740993, which a double cannot hold without changing it',
    );
  });
});
