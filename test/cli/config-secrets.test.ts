/** Secrets from owner-only files (R23): read when chmod 600, refused when others can read them. */
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfig } from '../../core/config.ts';
import { ConfigError } from '../../core/errors.ts';
import { tempDir } from '../helpers.ts';

test('token files: owner-only ones are read, group/world-readable ones refused without echoing the secret', () => {
  const dir = tempDir();
  try {
    for (const [variable, key] of [['DESKPORT_TARGET_API_KEY_FILE', 'apiKey'], ['DESKPORT_SOURCE_API_TOKEN_FILE', 'apiToken'], ['DESKPORT_SOURCE_OAUTH_TOKEN_FILE', 'oauthToken']] as const) {
      const file = `${dir.path}/${variable}`;
      writeFileSync(file, `s3cret-${key}\n`);
      chmodSync(file, 0o600);
      const config = loadConfig({ env: { [variable]: file } });
      const got = key === 'apiKey' ? config.target.apiKey : config.source[key];
      assert.equal(got, `s3cret-${key}`);
      chmodSync(file, 0o644);
      assert.throws(() => loadConfig({ env: { [variable]: file } }), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, new RegExp(`${variable}: .* is readable by others; run: chmod 600`));
        assert.ok(!err.message.includes('s3cret'));
        return true;
      });
    }
  } finally {
    dir.remove();
  }
});
