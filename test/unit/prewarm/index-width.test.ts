/** Index widths learnt during a run: the widest seen per upstream, and images of unknown width taking turns. */
import { describe, expect, it } from 'vitest';
import { IndexWidths } from '../../../lib/prewarm/index-width.js';

const HUB = 'docker-hub';
const QUAY = 'quay';

describe('IndexWidths', () => {
  it.each<[string, Array<number | undefined>, number | undefined]>([
    ['nothing seen', [], undefined],
    ['the widest of what was seen', [3, 8, 5], 8],
    ['a width unknown changes nothing', [undefined, 2, undefined], 2],
  ])('%s', (_name, widths, widest) => {
    const seen = new IndexWidths();
    for (const w of widths) seen.note(HUB, w);
    expect(seen.widest(HUB)).toBe(widest);
    expect(seen.widest(QUAY)).toBeUndefined();
  });

  it('while one image learns the width, the next waits, then needs no turn once it is known', async () => {
    const widths = new IndexWidths();
    const first = await widths.turn(HUB, true);
    expect(first).toBeTypeOf('function');
    let secondDone = false;
    const second = widths.turn(HUB, true).then((end) => {
      secondDone = true;
      return end;
    });
    // Another upstream does not wait for this one.
    expect(await widths.turn(QUAY, true)).toBeTypeOf('function');
    await new Promise((r) => setTimeout(r, 10));
    expect(secondDone).toBe(false);
    widths.note(HUB, 3);
    first!();
    expect(await second).toBeUndefined();
  });

  it('a turn that ends without showing a width passes to the next image', async () => {
    const widths = new IndexWidths();
    const first = await widths.turn(HUB, true);
    const second = widths.turn(HUB, true);
    first!(); // deferred at the reserve, or failed: nothing learnt
    const end = await second;
    expect(end).toBeTypeOf('function');
    // Ending twice (after the pull, and when the image stops) is harmless.
    end!();
    end!();
    expect(await widths.turn(HUB, true)).toBeTypeOf('function');
  });

  it('an image whose width is known (or that is not multi-platform) takes no turn and never waits', async () => {
    const widths = new IndexWidths();
    await widths.turn(HUB, true); // held by another image, never ended
    expect(await widths.turn(HUB, false)).toBeUndefined();
  });
});
