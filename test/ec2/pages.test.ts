import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeAllPages } from '../../src/ec2/resources.js';

describe('describeAllPages', () => {
  test('follows NextToken, keeping the request, and gathers every page', async () => {
    const seen: object[] = [];
    const pages: Record<string, { Items: number[]; NextToken?: string }> = {
      '': { Items: [1, 2], NextToken: 'a' },
      a: { Items: [], NextToken: 'b' },
      b: { Items: [3] },
    };
    const items = await describeAllPages(
      { Filters: ['f'] } as { Filters: string[]; NextToken?: string },
      async (request) => {
        seen.push(request);
        return pages[request.NextToken ?? '']!;
      },
      (page) => page.Items,
    );
    assert.deepEqual(items, [1, 2, 3]);
    assert.deepEqual(seen, [
      { Filters: ['f'] },
      { Filters: ['f'], NextToken: 'a' },
      { Filters: ['f'], NextToken: 'b' },
    ]);
  });

  test('stops after 100 pages when the tokens never end', async () => {
    let calls = 0;
    const items = await describeAllPages(
      {},
      async () => ({ Items: [++calls], NextToken: 'more' }),
      (page) => page.Items,
    );
    assert.equal(calls, 100);
    assert.equal(items.length, 100);
  });
});
