/** cache-keeper prewarm [IMAGE…] | cache-keeper uri IMAGE… */
import { DIGEST_CAUTION, splitDigest } from '../../lib/config/image-ref.js';
import { cacheRepositoryName, resolveImage, UncachedImageError } from '../../lib/config/images.js';
import type { KeeperConfig } from '../../lib/config/load.js';
import { leaseNotTaken } from '../../lib/prewarm/lease.js';
import { formatImageLine, formatPrewarm, type ImageResult } from '../../lib/prewarm/report.js';
import { type PrewarmProgress, runPrewarm } from '../../lib/prewarm/run.js';
import { errorMessage } from '../../lib/runtime/errors.js';
import { type CommandDeps, registryHost } from '../deps.js';
import type { CliIo } from '../io.js';
import { PrewarmLiveView } from '../live/prewarm-view.js';

export async function prewarmCommand(
  deps: CommandDeps,
  io: CliIo,
  options: { images: string[]; json: boolean; dryRun?: boolean; fanOut?: boolean },
): Promise<number> {
  const { config } = deps;
  if (options.fanOut && options.dryRun) {
    io.err(
      'cache-keeper prewarm: --dry-run and --fan-out do not go together (a dry run pulls nothing to fan out)',
    );
    return 2;
  }
  const images = options.images.length
    ? options.images.map((i) => resolveImage(config, i))
    : config.prewarm.images;
  // On a terminal, a live block redrawn in place under the finished images' lines; otherwise the
  // report alone, as plain lines.
  const live =
    io.isTty && !options.json && !options.fanOut ? liveBlock(io, images.length, Date.now()) : undefined;
  let report: Awaited<ReturnType<typeof runPrewarm>>;
  try {
    report = options.fanOut
      ? await runFannedOut(deps, options.images)
      : await runPrewarm(images, {
          ...deps,
          deadline: deps.now() + 3_600_000,
          dryRun: options.dryRun,
          onImage: live?.imageDone,
          onProgress: live?.progress,
        });
  } finally {
    live?.stop();
  }
  if (options.json) io.out(JSON.stringify(report, null, 2));
  else
    io.out(
      live ? formatPrewarm(report).split('\n').slice(report.images.length).join('\n') : formatPrewarm(report),
    );
  if (report.lease) {
    io.err(`cache-keeper prewarm: not started: ${leaseNotTaken(report.lease)}`);
    return 1;
  }
  return report.counts.failed > 0 ? 1 : 0;
}

/**
 * The night through the state machine, here. Loaded only for --fan-out: the state machine runner
 * and its validator are a good part of the command's start-up otherwise.
 */
async function runFannedOut(deps: CommandDeps, images: string[]) {
  const [{ runNightLocally }, { nightHandlers }] = await Promise.all([
    import('../../lib/prewarm/local-execution.js'),
    import('../night.js'),
  ]);
  return runNightLocally({
    config: deps.config,
    handlers: nightHandlers(() => deps),
    ...(images.length ? { input: { images } } : {}),
  });
}

/** Draws the live view as a block at the bottom of the terminal, redrawn every 250 ms and on each event. */
function liveBlock(io: CliIo, total: number, startedAt: number) {
  const view = new PrewarmLiveView(total, startedAt);
  let drawn = 0;
  const clear = () => (drawn ? `\x1b[${drawn}A\x1b[J` : '');
  const draw = (above: string[] = []) => {
    const block = view.render(Date.now());
    io.out(clear() + [...above, ...block].join('\n'));
    drawn = block.length;
  };
  const timer = setInterval(() => draw(), 250);
  timer.unref();
  return {
    progress: (event: PrewarmProgress) => view.progress(event, Date.now()),
    imageDone: (result: ImageResult, done: number) => {
      view.imageDone(result);
      draw([`[${String(done).padStart(String(total).length)}/${total}] ${formatImageLine(result)}`]);
    },
    stop: () => {
      clearInterval(timer);
      // The block goes; the finished lines stay above the summary.
      if (drawn) io.out(`${clear()}\x1b[1A`);
      drawn = 0;
    },
  };
}

/** An image given on the command line, resolved, or what is wrong with it (not blamed on the config file). */
function resolveImageForCli(config: KeeperConfig, text: string): ReturnType<typeof resolveImage> | string {
  try {
    return resolveImage(config, text);
  } catch (error) {
    return error instanceof UncachedImageError ? error.problem : errorMessage(error);
  }
}

/** Prints the reference CI should pull instead of the Docker Hub one. */
export async function uriCommand(
  config: KeeperConfig,
  io: CliIo,
  options: { images: string[]; registry?: string; json?: boolean; deps: () => CommandDeps },
): Promise<number> {
  if (options.images.length === 0) {
    io.err('cache-keeper uri: name at least one image, e.g. cache-keeper uri node:22-alpine');
    return 2;
  }
  // Every image is checked before anything is printed: all or nothing, never half a list. A pinned
  // digest is kept (CI may pull by it once the tag is warm), with rewrite's caution.
  const images = options.images.map((text) => {
    try {
      const { name, digest, tagged } = splitDigest(text);
      return { text, digest, tagged, image: resolveImageForCli(config, name) };
    } catch (error) {
      return { text, tagged: false, image: errorMessage(error) };
    }
  });
  const bad = images.filter((i) => typeof i.image === 'string');
  if (bad.length) {
    for (const b of bad) io.err(`cache-keeper uri: ${b.text}: ${b.image as string}`);
    return 2;
  }
  const host = await registryHost(options);
  const references = images.map(({ text, image, digest, tagged }) => {
    const resolved = image as Exclude<typeof image, string>;
    const tag = tagged || !digest ? `:${resolved.tag}` : '';
    if (digest) io.err(`cache-keeper uri: ${text}: ${DIGEST_CAUTION}`);
    return {
      image: text,
      reference: `${host}/${cacheRepositoryName(resolved)}${tag}${digest ? `@${digest}` : ''}`,
    };
  });
  if (options.json) io.out(JSON.stringify(references, null, 2));
  else for (const r of references) io.out(r.reference);
  return 0;
}
