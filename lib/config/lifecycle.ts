/**
 * ECR lifecycle policies: the presets the config offers, and the rules ECR enforces on a raw policy
 *, as the ECR user guide documents them, so a bad policy fails at config load rather than halfway
 * through a reconcile.
 */
export interface LifecycleRule {
  rulePriority: number;
  description?: string;
  selection: {
    tagStatus: 'tagged' | 'untagged' | 'any';
    tagPatternList?: string[];
    tagPrefixList?: string[];
    countType: 'imageCountMoreThan' | 'sinceImagePushed' | 'sinceImagePulled' | 'sinceImageTransitioned';
    countUnit?: 'days';
    countNumber: number;
    storageClass?: 'standard' | 'archive';
  };
  action: { type: 'expire' | 'transition'; targetStorageClass?: 'archive' };
}

export interface LifecyclePolicy {
  rules: LifecycleRule[];
}

export interface LifecyclePresets {
  keepLast?: number;
  expireUntaggedAfterDays?: number;
  archiveUnpulledAfterDays?: number;
}

/**
 * How long untagged leftovers stay when `keepLast` is set without `expireUntaggedAfterDays`: long
 * enough for a workload still pinned to a moved tag's previous digest to move on (a first pull by
 * digest through the cache fails), short enough that a repository does not grow without bound.
 */
export const KEEP_LAST_UNTAGGED_DAYS = 7;

/**
 * Builds a policy from presets. Priorities follow ECR's rule: the `any` rule comes last.
 *
 * `keepLast` counts tagged images: a multi-platform image is an index (tagged) and one manifest per
 * platform (untagged), and counting those too would keep fewer tags than asked and expire listed
 * ones, which the next night pulls from Docker Hub again. The platform manifests stay while their
 * index does (ECR never expires what a manifest list references); a moved tag's previous digest and
 * its platforms are untagged leftovers, expired after `expireUntaggedAfterDays` (with `keepLast`,
 * KEEP_LAST_UNTAGGED_DAYS unless set).
 */
export function lifecyclePolicyFromPresets(presets: LifecyclePresets): LifecyclePolicy {
  const rules: LifecycleRule[] = [];
  const add = (rule: Omit<LifecycleRule, 'rulePriority'>) =>
    rules.push({ rulePriority: rules.length + 1, ...rule });
  const untaggedDays =
    presets.expireUntaggedAfterDays ?? (presets.keepLast !== undefined ? KEEP_LAST_UNTAGGED_DAYS : undefined);
  if (untaggedDays !== undefined)
    add({
      description: `Expire untagged images ${untaggedDays} days after push`,
      selection: {
        tagStatus: 'untagged',
        countType: 'sinceImagePushed',
        countUnit: 'days',
        countNumber: untaggedDays,
      },
      action: { type: 'expire' },
    });
  if (presets.keepLast !== undefined)
    add({
      description: `Keep only the last ${presets.keepLast} tagged images`,
      selection: {
        tagStatus: 'tagged',
        tagPatternList: ['*'],
        countType: 'imageCountMoreThan',
        countNumber: presets.keepLast,
      },
      action: { type: 'expire' },
    });
  if (presets.archiveUnpulledAfterDays !== undefined)
    add({
      description: `Archive images not pulled for ${presets.archiveUnpulledAfterDays} days`,
      selection: {
        tagStatus: 'any',
        countType: 'sinceImagePulled',
        countUnit: 'days',
        countNumber: presets.archiveUnpulledAfterDays,
      },
      action: { type: 'transition', targetStorageClass: 'archive' },
    });
  return { rules };
}

/** Canonical JSON text of a policy: what is sent to ECR and compared with what ECR holds. */
export function lifecyclePolicyText(policy: LifecyclePolicy): string {
  return JSON.stringify(policy);
}

/** Every problem with a policy, each as [path below the policy, message]. Empty when ECR would accept it. */
export function lifecyclePolicyProblems(policy: unknown): Array<[Array<string | number>, string]> {
  const problems: Array<[Array<string | number>, string]> = [];
  if (typeof policy !== 'object' || policy === null || !Array.isArray((policy as LifecyclePolicy).rules)) {
    return [[['rules'], 'a lifecycle policy needs a "rules" array']];
  }
  const rules = (policy as LifecyclePolicy).rules;
  if (rules.length === 0) problems.push([['rules'], 'a lifecycle policy needs at least one rule']);
  if (rules.length > 50)
    problems.push([['rules'], `${rules.length} rules; ECR allows at most 50 per policy`]);
  const text = JSON.stringify(policy);
  if (text.length > 30720) problems.push([[], `policy text is ${text.length} characters; ECR allows 30,720`]);

  const priorities = new Map<number, number>();
  let maxPriority = -Infinity;
  rules.forEach((rule, i) => {
    const at = (...p: Array<string | number>) => ['rules', i, ...p];
    if (!Number.isInteger(rule?.rulePriority) || rule.rulePriority < 1) {
      problems.push([at('rulePriority'), 'must be a whole number of 1 or more']);
      return;
    }
    if (priorities.has(rule.rulePriority)) {
      problems.push([
        at('rulePriority'),
        `priority ${rule.rulePriority} is also used by rules[${priorities.get(rule.rulePriority)}]`,
      ]);
    }
    priorities.set(rule.rulePriority, i);
    maxPriority = Math.max(maxPriority, rule.rulePriority);
    const sel = rule.selection;
    const action = rule.action;
    if (!sel || typeof sel !== 'object') {
      problems.push([at('selection'), 'is required']);
      return;
    }
    if (!['tagged', 'untagged', 'any'].includes(sel.tagStatus)) {
      problems.push([at('selection', 'tagStatus'), 'must be tagged, untagged or any']);
    }
    if (sel.tagPatternList && sel.tagPrefixList) {
      problems.push([at('selection'), 'tagPatternList and tagPrefixList cannot be combined in one rule']);
    }
    if (sel.tagStatus === 'tagged' && !sel.tagPatternList?.length && !sel.tagPrefixList?.length) {
      problems.push([at('selection'), 'a tagged rule needs tagPatternList or tagPrefixList']);
    }
    if (sel.tagStatus !== 'tagged' && (sel.tagPatternList || sel.tagPrefixList)) {
      problems.push([
        at('selection'),
        'tagPatternList/tagPrefixList are only allowed with tagStatus "tagged"',
      ]);
    }
    sel.tagPatternList?.forEach((pattern, j) => {
      if ((pattern.match(/\*/g) ?? []).length > 4) {
        problems.push([
          at('selection', 'tagPatternList', j),
          'a tag pattern may contain at most 4 wildcards (*)',
        ]);
      }
    });
    const counts = ['imageCountMoreThan', 'sinceImagePushed', 'sinceImagePulled', 'sinceImageTransitioned'];
    if (!counts.includes(sel.countType)) {
      problems.push([at('selection', 'countType'), `must be one of ${counts.join(', ')}`]);
    } else if (sel.countType === 'imageCountMoreThan') {
      if (sel.countUnit !== undefined)
        problems.push([at('selection', 'countUnit'), 'is not allowed with imageCountMoreThan']);
    } else if (sel.countUnit !== 'days') {
      problems.push([at('selection', 'countUnit'), `must be "days" with ${sel.countType}`]);
    }
    if (!Number.isInteger(sel.countNumber) || sel.countNumber < 1) {
      problems.push([at('selection', 'countNumber'), 'must be a whole number of 1 or more']);
    }
    if (!action || !['expire', 'transition'].includes(action.type)) {
      problems.push([at('action', 'type'), 'must be expire or transition']);
      return;
    }
    if (action.type === 'transition' && action.targetStorageClass !== 'archive') {
      problems.push([at('action', 'targetStorageClass'), 'a transition must target "archive"']);
    }
    if (sel.countType === 'sinceImagePulled' && action.type !== 'transition') {
      problems.push([
        at('action', 'type'),
        'sinceImagePulled can only transition images to archive, not expire them',
      ]);
    }
    if (sel.countType === 'sinceImageTransitioned') {
      if (action.type !== 'expire' || sel.storageClass !== 'archive') {
        problems.push([
          at('selection'),
          'sinceImageTransitioned needs storageClass "archive" and action expire',
        ]);
      } else if (sel.countNumber < 90) {
        problems.push([
          at('selection', 'countNumber'),
          'archived images must stay at least 90 days before they expire',
        ]);
      }
    }
  });
  rules.forEach((rule, i) => {
    if (rule?.selection?.tagStatus === 'any' && rule.rulePriority !== maxPriority) {
      problems.push([
        ['rules', i, 'rulePriority'],
        'a rule with tagStatus "any" must have the highest rulePriority',
      ]);
    }
  });
  return problems;
}
