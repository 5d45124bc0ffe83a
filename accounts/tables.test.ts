import { describe, expect, it } from 'vitest';
import { renderPairs, renderTable } from './tables.ts';

describe('tables', () => {
  it('pads columns to the widest cell and right-aligns numbers', () => {
    const out = renderTable(['NAME', 'BYTES'], [['alice', '5'], ['bo', '1234']], ['left', 'right']);
    expect(out).toBe('NAME   BYTES\nalice      5\nbo      1234\n');
  });
  it('renders label: value pairs', () => {
    expect(renderPairs([['Name', 'alice'], ['Status', 'active']])).toBe('Name:    alice\nStatus:  active\n');
  });
});
