/**
 * How many platform manifests a registry's multi-platform images list, as learnt during one run.
 *
 * Whether ECR, caching a manifest list, fetches every child from upstream (each a Docker Hub pull)
 * is not documented, so a pull is held to the reserve at what it may cost. A moved image's cost is
 * known from the index the cache holds; a new image's is not, before its pull. Per upstream, the
 * widest index seen tonight stands in for it; until there is one, images of unknown width take
 * turns: one learns the width by its pull while the others wait, instead of several being held at
 * their configured platforms and crossing the reserve together.
 */
export class IndexWidths {
  private readonly widestSeen = new Map<string, number>();
  private readonly learning = new Map<string, Promise<void>>();

  /** Widths learnt elsewhere (a fanned-out night's plan), per upstream. */
  static from(known: Readonly<Record<string, number>>): IndexWidths {
    const widths = new IndexWidths();
    for (const [upstream, width] of Object.entries(known)) widths.note(upstream, width);
    return widths;
  }

  /** What has been learnt, per upstream, to hand on (`from`). */
  known(): Record<string, number> {
    return Object.fromEntries(this.widestSeen);
  }

  /** Records the width of an index seen on `upstream` (pulled, or read from the cache). */
  note(upstream: string, width: number | undefined): void {
    if (width) this.widestSeen.set(upstream, Math.max(this.widestSeen.get(upstream) ?? 0, width));
  }

  /** The most platform manifests an index of `upstream` listed tonight; undefined before any. */
  widest(upstream: string): number | undefined {
    return this.widestSeen.get(upstream);
  }

  /**
   * For an image whose pull may list an index of unknown width (`mayBeWide`): waits while another
   * image on `upstream` is learning the width. Returns the end of this image's turn when it must
   * learn the width itself (call it once its pull has settled, or when it stops), or undefined when
   * the width is known by then or the image needs none.
   */
  async turn(upstream: string, mayBeWide: boolean): Promise<(() => void) | undefined> {
    const needed = () => mayBeWide && !this.widestSeen.has(upstream);
    while (needed() && this.learning.has(upstream)) await this.learning.get(upstream);
    if (!needed()) return undefined;
    let end!: () => void;
    const learnt = new Promise<void>((resolve) => {
      end = resolve;
    });
    this.learning.set(upstream, learnt);
    return () => {
      if (this.learning.get(upstream) === learnt) this.learning.delete(upstream);
      end();
    };
  }
}
