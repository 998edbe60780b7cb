/**
 * Which request Content-Types a route accepts (mediaTypeProblem in src/http/media-types.ts), without a server: REST
 * JSON routes refuse only a JSON charset other than UTF-8; V2 routes take JSON (UTF-8), octet-stream or none, and
 * refuse the rest with a 415 naming the type.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnsupportedMediaTypeError } from '../../src/errors.ts';
import { mediaTypeProblem, type BodyRules } from '../../src/http/media-types.ts';
import { expectError } from './expect-error.ts';

const V2_REFUSAL = 'is not accepted by the Open Inference Protocol routes; send application/json (UTF-8), or application/octet-stream for the binary tensor extension';

/** The 415 for `contentType` under `rules`, asserted to be one. */
function refusal(contentType: string, rules: BodyRules): UnsupportedMediaTypeError {
  return expectError(
    () => {
      const problem = mediaTypeProblem(contentType, rules);
      if (problem) throw problem;
    },
    UnsupportedMediaTypeError,
    415,
  );
}

describe('mediaTypeProblem', () => {
  it('accepts no Content-Type and plain JSON under both rules', () => {
    for (const rules of ['json', 'v2'] as const) {
      assert.equal(mediaTypeProblem(undefined, rules), undefined);
      assert.equal(mediaTypeProblem('application/json', rules), undefined);
    }
  });

  it('accepts JSON with a UTF-8 charset in any case, quoted or not, among other parameters', () => {
    for (const type of ['application/json; charset=utf-8', 'Application/JSON;charset=UTF-8', 'application/json; charset="utf8"', 'application/json; q=1; charset=utf-8', 'application/json; foo']) {
      assert.equal(mediaTypeProblem(type, 'json'), undefined, type);
      assert.equal(mediaTypeProblem(type, 'v2'), undefined, type);
    }
  });

  it('refuses JSON in another charset with a 415 quoting the charset, under both rules', () => {
    for (const rules of ['json', 'v2'] as const) {
      assert.equal(
        refusal('application/json; charset=latin1', rules).message,
        'Content-Type charset "latin1" is not supported; JSON must be sent UTF-8 encoded (application/json, or application/json; charset=utf-8)',
      );
      refusal('application/json; charset="UTF-16"', rules);
      refusal('application/json; charset=', rules);
    }
  });

  it('leaves other types on REST routes to fastify (which answers 415 when it has no parser)', () => {
    assert.equal(mediaTypeProblem('text/plain', 'json'), undefined);
    assert.equal(mediaTypeProblem('application/octet-stream', 'json'), undefined);
    assert.equal(mediaTypeProblem('nonsense', 'json'), undefined);
  });

  it('accepts octet-stream on V2 routes, with parameters or in another case', () => {
    assert.equal(mediaTypeProblem('application/octet-stream', 'v2'), undefined);
    assert.equal(mediaTypeProblem('Application/Octet-Stream; foo=bar', 'v2'), undefined);
  });

  it('refuses any other type on V2 routes with a 415 quoting it as sent', () => {
    assert.equal(refusal('text/plain', 'v2').message, `Content-Type "text/plain" ${V2_REFUSAL}`);
    refusal('multipart/form-data; boundary=x', 'v2');
    assert.equal(refusal('not a type', 'v2').message, `Content-Type "not a type" ${V2_REFUSAL}`);
    refusal('application/jsonx', 'v2');
  });
});
