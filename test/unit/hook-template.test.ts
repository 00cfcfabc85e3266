/** The webhook input template (issue 19): paths only, own properties only, missing → empty. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTemplate, renderTemplate } from '../../src/gateway/hook-template.ts';

const render = (source: string, payload: unknown): string => renderTemplate(compileTemplate(source), payload);

describe('webhook input templates', () => {
  it('fills paths: strings as they are, numbers and booleans as text, objects and arrays as JSON', () => {
    const payload = { data: { id: 42, ok: true, who: 'ann', items: [{ sku: 'A-1' }], tags: ['x', 'y'] } };
    assert.equal(
      render('#{{data.id}} {{data.ok}} {{ data.who }} {{data.items.0.sku}} {{data.tags}}', payload),
      '#42 true ann A-1 ["x","y"]',
    );
    assert.equal(render('no placeholders', payload), 'no placeholders');
  });

  it('renders a missing path, null, or a path through a scalar as the empty string', () => {
    assert.equal(render('[{{a.b}}][{{n}}][{{s.length}}]', { n: null, s: 'text' }), '[][][]');
  });

  it('never reads the prototype chain, whatever the path names', () => {
    assert.equal(render('{{constructor}}{{__proto__}}{{toString}}{{a.constructor.name}}', { a: {} }), '');
  });

  it('a payload cannot inject placeholders: rendered values are not rendered again', () => {
    assert.equal(render('{{a}}', { a: '{{b}}', b: 'secret' }), '{{b}}');
  });

  it('refuses unterminated placeholders and anything that is not a dot path', () => {
    assert.throws(() => compileTemplate('Order {{id'), /unterminated placeholder at character 7/);
    for (const bad of ['{{}}', '{{a + b}}', '{{a..b}}', '{{a[0]}}', '{{process.env}}x{{a()}}'])
      assert.throws(() => compileTemplate(bad), /dot-separated path/, bad);
  });
});
