import { describe, expect, it } from 'vitest';
import { defaultAuthor } from '../../cli/defaults.js';

describe('the default commit author', () => {
  it('is $DATACTL_AUTHOR when it says something, else the user name (a blank author is refused by the server)', () => {
    expect(defaultAuthor({ DATACTL_AUTHOR: 'ada' })).toBe('ada');
    for (const blank of ['', '   ']) {
      const author = defaultAuthor({ DATACTL_AUTHOR: blank });
      expect(author.trim()).not.toBe('');
      expect(author).toBe(defaultAuthor({}));
    }
  });
});
