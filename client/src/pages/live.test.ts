import { renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useTrailing } from './live';

describe('useTrailing', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs once at the end of the window however many calls came, with the latest function', () => {
    const calls: string[] = [];
    const { result, rerender } = renderHook(({ tag }) => useTrailing(() => calls.push(tag), 1000), { initialProps: { tag: 'a' } });
    result.current();
    result.current();
    rerender({ tag: 'b' });
    result.current();
    vi.advanceTimersByTime(999);
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual(['b']);
    result.current();
    vi.advanceTimersByTime(1000);
    expect(calls).toEqual(['b', 'b']);
  });

  it('does not run after unmount', () => {
    const fn = vi.fn();
    const { result, unmount } = renderHook(() => useTrailing(fn, 500));
    result.current();
    unmount();
    vi.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
  });
});
