import { placeAds, thumbnailFor, toMs } from './video.rules';

describe('video rules', () => {
  it('places pre, mid and post rolls', () => {
    const { offsets, problems } = placeAds(60_000, [
      { position: 'pre', durationSeconds: 5 },
      { position: 'mid', offsetSeconds: 30.5, durationSeconds: 10 },
      { position: 'post', durationSeconds: 5 },
      { position: 'post', offsetSeconds: 60, durationSeconds: 5 },
    ]);
    expect(problems).toEqual([]);
    expect(offsets).toEqual([0, 30_500, 60_000, 60_000]);
  });

  it('names each misplaced ad', () => {
    const { problems } = placeAds(60_000, [
      { position: 'pre', offsetSeconds: 3, durationSeconds: 5 },
      { position: 'mid', durationSeconds: 10 },
      { position: 'mid', offsetSeconds: 60, durationSeconds: 10 },
      { position: 'post', offsetSeconds: 10, durationSeconds: 5 },
    ]);
    expect(problems).toEqual([
      'ads[0].offsetSeconds must be 0 (or omitted) for a pre-roll',
      'ads[1].offsetSeconds is required for a mid-roll',
      'ads[2].offsetSeconds must lie strictly between 0 and durationSeconds for a mid-roll',
      "ads[3].offsetSeconds must be the video's duration (or omitted) for a post-roll",
    ]);
  });

  it('derives YouTube thumbnails and nothing for other hosts', () => {
    expect(thumbnailFor('https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=1')).toBe('https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg');
    expect(thumbnailFor('https://youtu.be/dQw4w9WgXcQ')).toBe('https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg');
    expect(thumbnailFor('https://youtube.com/shorts/abcDEF12345')).toBe('https://i.ytimg.com/vi/abcDEF12345/hqdefault.jpg');
    expect(thumbnailFor('https://cdn.example.com/v/1.mp4')).toBeNull();
    expect(thumbnailFor('not a url')).toBeNull();
  });

  it('rounds seconds to milliseconds', () => {
    expect(toMs(212.4806)).toBe(212_481);
    expect(toMs(0.001)).toBe(1);
  });
});
