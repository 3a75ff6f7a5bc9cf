/**
 * ECR's lifecycle policies, executed, as the ECR user guide describes them (restated in
 * docs/sandbox.md), so the sandbox shows what a policy does to a cache night after night, not only
 * whether ECR accepts it:
 * - rules are evaluated in rulePriority order; an image a rule selects (by tag status, and tag
 *   patterns or prefixes) is that rule's alone: a rule of a higher number never sees it;
 * - `imageCountMoreThan`: of the images a rule selects, newest pushed first, those past the count
 *   are acted on; `sinceImagePushed` / `sinceImagePulled`: those older than the count of days
 *   (pulled: the last recorded pull, else the push);
 * - `expire` deletes the image and its tags; `transition` moves it to the archive storage class
 *   (`sinceImageTransitioned` rules, which expire archived images, are not run);
 * - an image a manifest list in the repository references cannot expire before the list does.
 * ECR runs this on its own schedule (within a day); the sandbox runs it when asked.
 */
import { wildcardMatch } from '../iam/policy.js';
import type { CachedImage, Repository } from './ecr.js';

interface Selection {
  tagStatus: 'tagged' | 'untagged' | 'any';
  tagPatternList?: string[];
  tagPrefixList?: string[];
  countType: string;
  countNumber: number;
  storageClass?: 'standard' | 'archive';
}
interface Rule {
  rulePriority: number;
  selection: Selection;
  action: { type: 'expire' | 'transition'; targetStorageClass?: string };
}

const DAY_MS = 86_400_000;

function selects(rule: Rule, tags: string[], image: CachedImage): boolean {
  const s = rule.selection;
  const wantClass = s.storageClass === 'archive' ? 'ARCHIVE' : 'STANDARD';
  if (image.storageClass !== wantClass) return false;
  if (s.tagStatus === 'untagged') return tags.length === 0;
  if (s.tagStatus === 'any') return true;
  if (tags.length === 0) return false;
  if (s.tagPatternList) return tags.some((t) => s.tagPatternList!.some((p) => wildcardMatch(p, t)));
  if (s.tagPrefixList) return tags.some((t) => s.tagPrefixList!.some((p) => t.startsWith(p)));
  return false;
}

/** The digests manifest lists still in the repository reference. */
function referenced(repo: Repository, gone: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const image of repo.images.values()) {
    if (gone.has(image.digest)) continue;
    const doc = JSON.parse(image.manifest.bytes.toString('utf8')) as {
      manifests?: Array<{ digest: string }>;
    };
    for (const child of doc.manifests ?? []) out.add(child.digest);
  }
  return out;
}

export interface LifecycleOutcome {
  expired: string[];
  archived: string[];
}

/** Runs the repository's lifecycle policy once, at `now`; says what it expired and archived. */
export function runLifecyclePolicy(repo: Repository, now: number): LifecycleOutcome {
  const outcome: LifecycleOutcome = { expired: [], archived: [] };
  if (!repo.lifecyclePolicy) return outcome;
  const rules = ([...(JSON.parse(repo.lifecyclePolicy) as { rules: Rule[] }).rules] as Rule[]).sort(
    (a, b) => a.rulePriority - b.rulePriority,
  );
  const tagsOf = (digest: string) =>
    [...repo.tagToDigest.entries()].filter(([, d]) => d === digest).map(([t]) => t);
  const claimed = new Set<string>();
  const chosen: Array<{ image: CachedImage; action: Rule['action'] }> = [];
  for (const rule of rules) {
    const selected = [...repo.images.values()]
      .filter((image) => !claimed.has(image.digest) && selects(rule, tagsOf(image.digest), image))
      .sort((a, b) => b.pushedAt - a.pushedAt);
    for (const image of selected) claimed.add(image.digest);
    const s = rule.selection;
    // When an image was archived is not kept here: sinceImageTransitioned rules are not run.
    if (s.countType === 'sinceImageTransitioned') continue;
    const acted =
      s.countType === 'imageCountMoreThan'
        ? selected.slice(s.countNumber)
        : selected.filter((image) => {
            const since =
              s.countType === 'sinceImagePulled'
                ? (image.lastRecordedPullTime ?? image.pushedAt)
                : image.pushedAt;
            return now - since > s.countNumber * DAY_MS;
          });
    for (const image of acted) chosen.push({ image, action: rule.action });
  }
  const expiring = new Set(chosen.filter((c) => c.action.type === 'expire').map((c) => c.image.digest));
  // A list that stays keeps its children: only what nothing remaining references expires.
  const protectedDigests = referenced(repo, expiring);
  for (const { image, action } of chosen) {
    if (action.type === 'transition') {
      image.storageClass = 'ARCHIVE';
      outcome.archived.push(image.digest);
    } else if (!protectedDigests.has(image.digest)) {
      repo.images.delete(image.digest);
      for (const tag of tagsOf(image.digest)) {
        repo.tagToDigest.delete(tag);
        repo.tagCheckedAt.delete(tag);
      }
      outcome.expired.push(image.digest);
    }
  }
  return outcome;
}
