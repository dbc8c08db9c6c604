import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Progress, addSecret, configureLog, redact, summary, info } from '../../src/lib/log.js';
import { formatBytes, formatDuration, markdownTable } from '../../src/lib/format.js';

describe('redaction', () => {
  test('registered secrets, their URL-encoded and base64 forms', () => {
    configureLog({ mode: 'cli', write: () => undefined });
    addSecret('p@ss/word+1');
    assert.equal(redact('pw=p@ss/word+1'), 'pw=***');
    assert.equal(redact(`u=${encodeURIComponent('p@ss/word+1')}`), 'u=***');
    assert.equal(redact(`b=${Buffer.from('p@ss/word+1').toString('base64')}`), 'b=***');
  });

  test('Authorization headers, URL credentials and signed URL queries', () => {
    assert.equal(redact('Authorization: Bearer eyJhbGciOi.abc.def'), 'Authorization: Bearer ***');
    assert.equal(redact('authorization=Basic dXNlcjpwYXNz'), 'authorization=Basic ***');
    assert.equal(redact('GET https://bob:s3cret@registry.example/v2/'), 'GET https://***@registry.example/v2/');
    assert.equal(
      redact('https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abcd&x-id=GetObject'),
      'https://b.s3.amazonaws.com/k?X-Amz-Credential=***&X-Amz-Signature=***&x-id=GetObject',
    );
    assert.equal(redact('https://oss.example/k?OSSAccessKeyId=LTAI&Expires=1&Signature=zz'), 'https://oss.example/k?OSSAccessKeyId=***&Expires=1&Signature=***');
  });

  test('every log line goes through redaction', () => {
    const lines: string[] = [];
    configureLog({ mode: 'cli', write: (l) => lines.push(l) });
    addSecret('tok-123456');
    info('using tok-123456 for the push');
    assert.deepEqual(lines, ['using *** for the push']);
  });
});

describe('progress', () => {
  test('prints at most one line per interval, with counts, bytes, rate and ETA', () => {
    let t = 0;
    const lines: string[] = [];
    const p = new Progress({ label: 'sync', totalItems: 4, totalBytes: 4e6, itemName: 'images', intervalMs: 5000, now: () => t, print: (l) => lines.push(l) });
    t = 1000;
    p.add({ items: 1, bytes: 1e6 });
    t = 4000;
    p.add({ bytes: 0 });
    assert.equal(lines.length, 0);
    t = 5000;
    p.add({ items: 1, bytes: 1e6 });
    assert.deepEqual(lines, ['sync: 2/4 images 2.0 MB/4.0 MB 400.0 kB/s ETA 5.0s']);
    t = 6000;
    p.add({ items: 1, bytes: 1e6 });
    assert.equal(lines.length, 1);
    t = 10_000;
    p.add({ items: 1, bytes: 1e6 });
    assert.equal(lines.length, 2);
    assert.match(p.done(), /^sync: done, 4 images, 4.0 MB in 10.0s \(400.0 kB\/s\)$/);
  });
});

describe('format and summary', () => {
  test('bytes and durations', () => {
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(181_000_000), '181.0 MB');
    assert.equal(formatDuration(4200), '4.2s');
    assert.equal(formatDuration(3_723_000), '1h2m3s');
  });

  test('a pipe in a cell cannot break the markdown table', () => {
    assert.equal(markdownTable(['a', 'b'], [['x|y', 'z\nw']]), '| a | b |\n| --- | --- |\n| x\\|y | z<br>w |');
  });

  test('the CLI prints the summary as a text table, with secrets redacted', async () => {
    const lines: string[] = [];
    configureLog({ mode: 'cli', write: (l) => lines.push(l) });
    addSecret('summary-secret-1');
    summary.heading('Upload');
    summary.table(['object', 'size'], [['s3://b/k?token=summary-secret-1', 10]]);
    await summary.flush();
    const text = lines.join('\n');
    assert.match(text, /Upload\n\nobject\s+size/);
    assert.ok(!text.includes('summary-secret-1'));
  });
});
