import { describe, expect, it } from 'vitest';
import { documentRefusal, gutterClass, lineStart } from './document-text.js';

const text = '{\n  "policies": [\n    { "id": "a", "actoin": "allow" }\n  ]\n}';

describe('documentRefusal', () => {
  it("words the controller's refusal and places each of its issues at its line", () => {
    const refusal = documentRefusal(
      text,
      {
        status: 400,
        body: {
          error: 'invalid policies',
          code: 'WEFT_ERR_INVALID_ARGUMENT',
          issues: [{ path: 'policies[0]', message: 'Unrecognized key: "actoin"' }],
        },
      },
      'changed since opened',
    );
    expect(refusal).toEqual({
      message: 'WEFT_ERR_INVALID_ARGUMENT: invalid policies',
      issues: [{ path: 'policies[0].actoin', message: 'Unrecognized key: "actoin"', line: 3, severity: 'error' }],
    });
  });

  it('says the document changed since it was opened when the write was not current (412)', () => {
    expect(
      documentRefusal(text, { status: 412, body: { error: 'precondition failed' } }, 'changed since opened'),
    ).toEqual({ message: 'changed since opened', issues: [] });
  });
});

describe('lineStart', () => {
  it('finds where each line starts', () => {
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      expect(text.slice(lineStart(text, i + 1)).startsWith(line)).toBe(true);
    });
    expect(lineStart(text, 1)).toBe(0);
    expect(lineStart(text, 2)).toBe(2);
  });
});

describe('gutterClass', () => {
  it('marks error lines over remark lines', () => {
    const errors = new Set([2, undefined]);
    const remarks = new Set([2, 3]);
    expect([1, 2, 3].map((line) => gutterClass(line, errors, remarks))).toEqual(['', 'line-error', 'line-remark']);
  });
});
