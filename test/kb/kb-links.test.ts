/** Link classification and rewriting inside article bodies (load/kb-links.ts), and the body's attachments (withFiles). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyLink, findSourceLinks, rewriteHrefs } from '../../load/kb-links.ts';
import { withFiles } from '../../load/kb-loader.ts';
import type { KbAttachmentRow } from '../../staging/index.ts';

const HOSTS = new Set(['acme.zendesk.com']);

describe('kb links', () => {
  test('every source form is recognised; other hosts and other paths are not', () => {
    const kinds = (href: string) => classifyLink(href, HOSTS) && [classifyLink(href, HOSTS)!.kind, classifyLink(href, HOSTS)!.id];
    assert.deepEqual(kinds('https://acme.zendesk.com/hc/en-us/articles/123-How-to'), ['article', '123']);
    assert.deepEqual(kinds('https://acme.zendesk.com/hc/articles/123'), ['article', '123']);
    assert.deepEqual(kinds('/hc/pt-br/articles/123-x?utm=1#top'), ['article', '123']);
    assert.deepEqual(kinds('https://acme.zendesk.com/api/v2/help_center/articles/123.json'), ['article', '123']);
    assert.deepEqual(kinds('https://acme.zendesk.com/api/v2/help_center/en-us/articles/123'), ['article', '123']);
    assert.deepEqual(kinds('https://acme.zendesk.com/agent/tickets/77'), ['ticket', '77']);
    assert.deepEqual(kinds('/hc/en-us/requests/77'), ['ticket', '77']);
    assert.equal(classifyLink('https://support.zendesk.com/hc/en-us/articles/123', HOSTS), null, 'another help center');
    // Issue 16.3c: sections and categories are links to rewrite too.
    assert.deepEqual(kinds('https://acme.zendesk.com/hc/en-us/sections/9-x'), ['section', '9']);
    assert.deepEqual(kinds('/hc/sections/9'), ['section', '9']);
    assert.deepEqual(kinds('https://acme.zendesk.com/hc/fr/categories/4-Facturation'), ['category', '4']);
    assert.deepEqual(kinds('https://acme.zendesk.com/api/v2/help_center/en-us/sections/9.json'), ['section', '9']);
    assert.deepEqual(kinds('https://acme.zendesk.com/api/v2/help_center/categories/4'), ['category', '4']);
    assert.equal(classifyLink('https://acme.zendesk.com/hc/en-us/community/topics/9', HOSTS), null);
    assert.equal(classifyLink('mailto:a@b.example', HOSTS), null);
    assert.deepEqual(classifyLink('https://any.example/hc/articles/5', new Set())?.id, '5', 'no known host: any host counts');
  });

  test('only the answered hrefs change; fragments kept; entities decoded and re-encoded', () => {
    const html = `<p><a href="/hc/en-us/articles/1-a#s2">a</a> <a class='x' href='https://acme.zendesk.com/hc/articles/2?x=1&amp;y=2'>b</a> <a href="/hc/articles/3">c</a></p>`;
    assert.deepEqual(findSourceLinks(html, HOSTS).map((l) => l.id), ['1', '2', '3']);
    const out = rewriteHrefs(html, (href) => (href.includes('/1-') ? 'https://new.example/one' : href.includes('/2?') ? 'https://new.example/two?a=1&b=2' : null));
    assert.equal(out, `<p><a href="https://new.example/one#s2">a</a> <a class='x' href="https://new.example/two?a=1&amp;b=2">b</a> <a href="/hc/articles/3">c</a></p>`);
    assert.equal(rewriteHrefs(out, () => null), out, 'idempotent when nothing resolves');
  });

  test('attachments: inline image and links rewritten, the rest listed, failures named', () => {
    const row = (id: string, name: string, over: Partial<KbAttachmentRow>): KbAttachmentRow => ({
      sourceId: `article:${id}`, articleSourceId: '1', sourceUrl: `https://acme.zendesk.com/hc/article_attachments/${id}/${name}`, fileName: name,
      contentType: null, size: 1, sha256: null, blobPath: null, inline: false, fetched: true, reason: null, targetFileId: null, targetUrl: null, uploadError: null, ...over,
    });
    const files = [
      row('1', 'shot.png', { inline: true, targetUrl: 'https://s3.example/k/shot.png' }),
      row('2', 'guide.pdf', { targetUrl: 'https://s3.example/k/guide.pdf' }),
      row('3', 'gone.zip', { fetched: false, reason: 'HTTP 404 from the source' }),
    ];
    const out = withFiles('<p><img src="/hc/article_attachments/1/shot.png"></p>', files);
    assert.ok(out.startsWith('<p><img src="https://s3.example/k/shot.png"></p>'));
    assert.ok(out.includes('<li><a href="https://s3.example/k/guide.pdf">guide.pdf</a></li>'));
    assert.ok(out.includes('Not migrated: gone.zip (HTTP 404 from the source)'));
  });
});
