import { describe, expect, it } from 'vitest';
import { ImageRefError, parseImageRef } from '../../../lib/config/image-ref.js';

describe('parseImageRef', () => {
  it.each([
    ['node', 'docker.io', 'library/node', 'latest'],
    ['node:22-alpine', 'docker.io', 'library/node', '22-alpine'],
    ['bitnami/redis:7.4', 'docker.io', 'bitnami/redis', '7.4'],
    ['docker.io/library/alpine:3.20', 'docker.io', 'library/alpine', '3.20'],
    ['registry-1.docker.io/grafana/grafana', 'docker.io', 'grafana/grafana', 'latest'],
    ['docker.io/alpine', 'docker.io', 'library/alpine', 'latest'],
    ['public.ecr.aws/docker/library/alpine:3.20', 'public.ecr.aws', 'docker/library/alpine', '3.20'],
    ['localhost:5000/team/app:1', 'localhost:5000', 'team/app', '1'],
  ])('%s → %s/%s:%s', (input, registry, repository, tag) => {
    expect(parseImageRef(input)).toEqual({ registry, repository, tag, original: input });
  });

  it.each([
    ['', /empty/],
    [`alpine@sha256:${'0'.repeat(64)}`, /pins a digest/],
    ['alpine:3.20@sha256:abc', /pins a digest/],
    ['Alpine', /not valid/],
    ['alpine:', /not a valid tag/],
    ['library//alpine', /not valid/],
  ])('rejects %j', (input, message) => {
    expect(() => parseImageRef(input)).toThrow(ImageRefError);
    expect(() => parseImageRef(input)).toThrow(message);
  });
});
