/** `cache-keeper rewrite`: a corpus of the forms real Dockerfiles and CI files take, each with its expected output. */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the corpus holds Dockerfile and compose variables, ${…} as users write them
import { describe, expect, it } from 'vitest';
import { fileKind, isGitlabCiFile, rewriteText, unifiedDiff } from '../../../lib/ci/rewrite.js';

const DOCKER_HUB = ['docker.io', 'registry-1.docker.io', 'index.docker.io'];
const target = {
  registryHost: 'r.example',
  rules: [{ prefix: 'docker-hub', upstreamPrefix: 'ROOT', pullHosts: DOCKER_HUB }],
};
const C = 'r.example/docker-hub';

/** [form, kind, input, expected output, notes expected (substrings, one per note)] */
const CORPUS: Array<[string, 'dockerfile' | 'yaml' | 'json' | 'jenkinsfile', string, string, string[]]> = [
  ['official image, tag', 'dockerfile', 'FROM node:22', `FROM ${C}/library/node:22`, []],
  ['no tag', 'dockerfile', 'FROM node', `FROM ${C}/library/node`, []],
  ['user image', 'dockerfile', 'FROM bitnami/redis:7', `FROM ${C}/bitnami/redis:7`, []],
  ['docker.io prefix', 'dockerfile', 'FROM docker.io/library/node:22', `FROM ${C}/library/node:22`, []],
  [
    'docker.io user image',
    'dockerfile',
    'FROM docker.io/grafana/grafana:11.0.0',
    `FROM ${C}/grafana/grafana:11.0.0`,
    [],
  ],
  [
    'index.docker.io',
    'dockerfile',
    'FROM index.docker.io/library/alpine:3.20',
    `FROM ${C}/library/alpine:3.20`,
    [],
  ],
  ['lowercase from', 'dockerfile', 'from node:22-alpine', `from ${C}/library/node:22-alpine`, []],
  ['leading spaces', 'dockerfile', '  FROM node:22', `  FROM ${C}/library/node:22`, []],
  ['stage name', 'dockerfile', 'FROM node:22 AS build', `FROM ${C}/library/node:22 AS build`, []],
  ['lowercase as', 'dockerfile', 'FROM node:22 as build', `FROM ${C}/library/node:22 as build`, []],
  [
    '--platform',
    'dockerfile',
    'FROM --platform=linux/amd64 node:22',
    `FROM --platform=linux/amd64 ${C}/library/node:22`,
    [],
  ],
  [
    '--platform variable',
    'dockerfile',
    'FROM --platform=$BUILDPLATFORM golang:1.24 AS build',
    `FROM --platform=$BUILDPLATFORM ${C}/library/golang:1.24 AS build`,
    [],
  ],
  [
    'tag and digest',
    'dockerfile',
    'FROM node:22@sha256:' + 'a'.repeat(64),
    `FROM ${C}/library/node:22@sha256:${'a'.repeat(64)}`,
    ['pinned by digest'],
  ],
  [
    'digest only',
    'dockerfile',
    'FROM alpine@sha256:' + 'b'.repeat(64),
    `FROM ${C}/library/alpine@sha256:${'b'.repeat(64)}`,
    ['pinned by digest'],
  ],
  ['scratch', 'dockerfile', 'FROM scratch', 'FROM scratch', []],
  // A base named by an ARG set before the first FROM: its default is rewritten where it is set.
  [
    'ARG-built',
    'dockerfile',
    'ARG BASE=node:22\nFROM ${BASE}\nFROM $BASE AS two',
    `ARG BASE=${C}/library/node:22\nFROM \${BASE}\nFROM $BASE AS two`,
    [],
  ],
  [
    'ARG-built, quoted default',
    'dockerfile',
    'ARG BASE="python:3.13-slim"\nFROM ${BASE}',
    `ARG BASE="${C}/library/python:3.13-slim"\nFROM \${BASE}`,
    [],
  ],
  [
    'ARG-built after another FROM: the changes stay in line order',
    'dockerfile',
    'ARG BASE=node:22\nFROM alpine:3.20 AS tools\nFROM ${BASE}',
    `ARG BASE=${C}/library/node:22\nFROM ${C}/library/alpine:3.20 AS tools\nFROM \${BASE}`,
    [],
  ],
  ['ARG without a default', 'dockerfile', 'ARG BASE\nFROM ${BASE}', 'ARG BASE\nFROM ${BASE}', ['variable']],
  [
    'ARG set inside a stage does not reach FROM',
    'dockerfile',
    'FROM alpine:3.20\nARG BASE=node:22\nFROM ${BASE}',
    `FROM ${C}/library/alpine:3.20\nARG BASE=node:22\nFROM \${BASE}`,
    ['variable'],
  ],
  // Only the tag is a variable: the repository, so the rule, is known.
  ['ARG-built tag', 'dockerfile', 'ARG V=22\nFROM node:$V', `ARG V=22\nFROM ${C}/library/node:$V`, []],
  [
    'ARG-built tag with a default',
    'dockerfile',
    'FROM node:${NODE_VERSION:-22}-alpine AS build',
    `FROM ${C}/library/node:\${NODE_VERSION:-22}-alpine AS build`,
    [],
  ],
  ['variable repository', 'dockerfile', 'FROM myorg/${APP}:1', 'FROM myorg/${APP}:1', ['variable']],
  [
    'compose variable tag',
    'yaml',
    '    image: postgres:${PG_VERSION}',
    `    image: ${C}/library/postgres:\${PG_VERSION}`,
    [],
  ],
  [
    'other registry',
    'dockerfile',
    'FROM ghcr.io/owner/app:1',
    'FROM ghcr.io/owner/app:1',
    ['ghcr.io has no pull-through cache rule'],
  ],
  [
    'private registry with port',
    'dockerfile',
    'FROM registry.local:5000/base:1',
    'FROM registry.local:5000/base:1',
    ['registry.local:5000'],
  ],
  ['already the cache', 'dockerfile', `FROM ${C}/library/node:22`, `FROM ${C}/library/node:22`, []],
  [
    'multi-stage, stage reused',
    'dockerfile',
    'FROM node:22 AS deps\nRUN npm ci\nFROM deps AS build\nRUN npm run build\nFROM nginx:1.27\nCOPY --from=build /app /usr/share/nginx/html',
    `FROM ${C}/library/node:22 AS deps\nRUN npm ci\nFROM deps AS build\nRUN npm run build\nFROM ${C}/library/nginx:1.27\nCOPY --from=build /app /usr/share/nginx/html`,
    ['an earlier build stage', 'an earlier build stage'],
  ],
  [
    'COPY --from image',
    'dockerfile',
    'COPY --from=busybox:1.36 /bin/busybox /busybox',
    `COPY --from=${C}/library/busybox:1.36 /bin/busybox /busybox`,
    [],
  ],
  [
    'COPY --from stage index',
    'dockerfile',
    'FROM node:22\nFROM alpine:3.20\nCOPY --from=0 /a /a',
    `FROM ${C}/library/node:22\nFROM ${C}/library/alpine:3.20\nCOPY --from=0 /a /a`,
    ['an earlier build stage'],
  ],
  [
    'COPY --link --from',
    'dockerfile',
    'COPY --link --from=golang:1.24 /usr/local/go /go',
    `COPY --link --from=${C}/library/golang:1.24 /usr/local/go /go`,
    [],
  ],
  [
    'RUN --mount from image',
    'dockerfile',
    'RUN --mount=type=bind,from=alpine:3.20,source=/etc,target=/x ls /x',
    `RUN --mount=type=bind,from=${C}/library/alpine:3.20,source=/etc,target=/x ls /x`,
    [],
  ],
  [
    'RUN --mount cache, no from',
    'dockerfile',
    'RUN --mount=type=cache,target=/root/.npm npm ci',
    'RUN --mount=type=cache,target=/root/.npm npm ci',
    [],
  ],
  [
    'line continuation in FROM',
    'dockerfile',
    'FROM --platform=linux/arm64 \\\n    node:22 \\\n    AS build',
    `FROM --platform=linux/arm64 \\\n    ${C}/library/node:22 \\\n    AS build`,
    [],
  ],
  [
    'continued RUN mentioning FROM',
    'dockerfile',
    'RUN echo \\\n  FROM node:22',
    'RUN echo \\\n  FROM node:22',
    [],
  ],
  ['comment', 'dockerfile', '# FROM node:22\nFROM node:22', `# FROM node:22\nFROM ${C}/library/node:22`, []],
  // BuildKit pulls the frontend the syntax directive names from Docker Hub on every build on a
  // fresh runner.
  [
    'syntax directive: the frontend image',
    'dockerfile',
    '# syntax=docker/dockerfile:1\nFROM node:22',
    `# syntax=${C}/docker/dockerfile:1\nFROM ${C}/library/node:22`,
    [],
  ],
  [
    'syntax directive after another directive, spaced, upper case',
    'dockerfile',
    '# escape=\\\n#  SYNTAX = docker/dockerfile:1.7\nFROM node:22',
    `# escape=\\\n#  SYNTAX = ${C}/docker/dockerfile:1.7\nFROM ${C}/library/node:22`,
    [],
  ],
  [
    'syntax directive after a byte order mark, CRLF',
    'dockerfile',
    '\uFEFF# syntax=docker/dockerfile:1\r\nFROM node:22\r\n',
    `\uFEFF# syntax=${C}/docker/dockerfile:1\r\nFROM ${C}/library/node:22\r\n`,
    [],
  ],
  [
    'a syntax comment below the directives is a comment',
    'dockerfile',
    '# a comment\n# syntax=docker/dockerfile:1\nFROM node:22',
    `# a comment\n# syntax=docker/dockerfile:1\nFROM ${C}/library/node:22`,
    [],
  ],
  [
    'heredoc',
    'dockerfile',
    'FROM alpine:3.20\nRUN <<EOF\nFROM node:22\nEOF\nCOPY <<-"X" /f\nFROM x\nX',
    `FROM ${C}/library/alpine:3.20\nRUN <<EOF\nFROM node:22\nEOF\nCOPY <<-"X" /f\nFROM x\nX`,
    [],
  ],
  ['CRLF-free trailing newline kept', 'dockerfile', 'FROM node:22\n', `FROM ${C}/library/node:22\n`, []],
  // Docker drops comment lines inside a continued instruction, and a parser directive may change
  // the escape character (Windows Dockerfiles use a backtick).
  [
    'a comment line inside a continued FROM',
    'dockerfile',
    'FROM \\\n# the base\n  node:22 AS build',
    `FROM \\\n# the base\n  ${C}/library/node:22 AS build`,
    [],
  ],
  [
    'a comment line inside a continued RUN is not read',
    'dockerfile',
    'FROM node:22\nRUN --mount=type=cache,target=/x \\\n# was --mount=from=redis:7\n    make',
    `FROM ${C}/library/node:22\nRUN --mount=type=cache,target=/x \\\n# was --mount=from=redis:7\n    make`,
    [],
  ],
  [
    'the escape directive: a backtick continues a line',
    'dockerfile',
    '# escape=`\nFROM `\n  mcr.microsoft.com/windows/servercore:ltsc2022 AS base\nFROM `\n  node:22',
    `# escape=\`\nFROM \`\n  mcr.microsoft.com/windows/servercore:ltsc2022 AS base\nFROM \`\n  ${C}/library/node:22`,
    ['mcr.microsoft.com has no pull-through cache rule'],
  ],
  [
    'ONBUILD COPY --from',
    'dockerfile',
    'FROM alpine:3.20\nONBUILD COPY --from=node:22 /usr/local/bin/node /bin/',
    `FROM ${C}/library/alpine:3.20\nONBUILD COPY --from=${C}/library/node:22 /usr/local/bin/node /bin/`,
    [],
  ],
  [
    'compose image',
    'yaml',
    'services:\n  web:\n    image: nginx:1.27',
    `services:\n  web:\n    image: ${C}/library/nginx:1.27`,
    [],
  ],
  [
    'compose quoted',
    'yaml',
    'services:\n  db:\n    image: "postgres:17"',
    `services:\n  db:\n    image: "${C}/library/postgres:17"`,
    [],
  ],
  ['compose single-quoted', 'yaml', "    image: 'redis:7'", `    image: '${C}/library/redis:7'`, []],
  [
    'compose with comment',
    'yaml',
    '    image: redis:7  # cache',
    `    image: ${C}/library/redis:7  # cache`,
    [],
  ],
  ['compose variable', 'yaml', '    image: ${REGISTRY}/app:1', '    image: ${REGISTRY}/app:1', ['variable']],
  [
    'a variable with a default reference: the default is rewritten (a value set for it still wins)',
    'yaml',
    'services:\n  app:\n    image: ${APP_IMAGE:-myorg/app:1.2}\n  db:\n    image: "${DB_IMAGE-postgres:17}"',
    `services:\n  app:\n    image: \${APP_IMAGE:-${C}/myorg/app:1.2}\n  db:\n    image: "\${DB_IMAGE-${C}/library/postgres:17}"`,
    [],
  ],
  [
    'a Dockerfile FROM with a default reference',
    'dockerfile',
    'ARG BASE\nFROM ${BASE:-node:22} AS build',
    `ARG BASE\nFROM \${BASE:-${C}/library/node:22} AS build`,
    [],
  ],
  [
    'a default that is only part of the name is left',
    'yaml',
    '    image: ${REGISTRY:-docker.io}/library/node:22',
    '    image: ${REGISTRY:-docker.io}/library/node:22',
    ['variable'],
  ],
  ['compose build, no image', 'yaml', '  app:\n    build: .', '  app:\n    build: .', []],
  [
    'compose build and image: the image is what the service builds, not a pull',
    'yaml',
    '  app:\n    build: .\n    image: myorg/app:latest\n  db:\n    image: postgres:16',
    `  app:\n    build: .\n    image: myorg/app:latest\n  db:\n    image: ${C}/library/postgres:16`,
    ['the name the service builds'],
  ],
  [
    'compose image before a build mapping',
    'yaml',
    '  app:\n    image: "myorg/app:1"  # tag\n    # built here\n    build:\n      context: .',
    '  app:\n    image: "myorg/app:1"  # tag\n    # built here\n    build:\n      context: .',
    ['the name the service builds'],
  ],
  [
    'a list item after another that builds',
    'yaml',
    '  - name: a\n    build: .\n  - image: busybox:1.36\n    name: b',
    `  - name: a\n    build: .\n  - image: ${C}/library/busybox:1.36\n    name: b`,
    [],
  ],
  [
    'kubernetes container',
    'yaml',
    'spec:\n  containers:\n    - name: app\n      image: busybox:1.36',
    `spec:\n  containers:\n    - name: app\n      image: ${C}/library/busybox:1.36`,
    [],
  ],
  [
    'kubernetes list item image first',
    'yaml',
    '  initContainers:\n    - image: alpine:3.20\n      name: init',
    `  initContainers:\n    - image: ${C}/library/alpine:3.20\n      name: init`,
    [],
  ],
  [
    'kubernetes other registry',
    'yaml',
    '      image: registry.k8s.io/pause:3.9',
    '      image: registry.k8s.io/pause:3.9',
    ['registry.k8s.io has no pull-through cache rule'],
  ],
  [
    'actions container string',
    'yaml',
    'jobs:\n  test:\n    container: node:22',
    `jobs:\n  test:\n    container: ${C}/library/node:22`,
    [],
  ],
  [
    'actions container object',
    'yaml',
    '    container:\n      image: node:22\n      options: --cpus 1',
    `    container:\n      image: ${C}/library/node:22\n      options: --cpus 1`,
    [],
  ],
  [
    'actions services',
    'yaml',
    '    services:\n      redis:\n        image: redis:7',
    `    services:\n      redis:\n        image: ${C}/library/redis:7`,
    [],
  ],
  [
    'gitlab image',
    'yaml',
    'image: python:3.13-slim\ntest:\n  script: pytest',
    `image: ${C}/library/python:3.13-slim\ntest:\n  script: pytest`,
    [],
  ],
  // GitLab names a service's host after its image (`docker:dind` is reached as `docker`): a service
  // pointed at the cache keeps that name as its alias, or the job cannot reach it.
  [
    'gitlab services list: each keeps the host name GitLab gave it',
    'yaml',
    'services:\n  - postgres:17\n  - "redis:7" # cache\n  - docker:24.0.7-dind\ntest:\n  script: make',
    `services:\n  - { name: ${C}/library/postgres:17, alias: postgres }\n  - { name: "${C}/library/redis:7", alias: redis } # cache\n  - { name: ${C}/library/docker:24.0.7-dind, alias: docker }\ntest:\n  script: make`,
    [],
  ],
  [
    "gitlab services at the key's indentation",
    'yaml',
    'test:\n  services:\n  - mysql:8\n  script: make',
    `test:\n  services:\n  - { name: ${C}/library/mysql:8, alias: mysql }\n  script: make`,
    [],
  ],
  [
    'gitlab: a namespaced service keeps the dashed host name (GitLab gave it the __ one too)',
    'yaml',
    'test:\n  services:\n  - bitnami/redis:7\n  script: make',
    `test:\n  services:\n  - { name: ${C}/bitnami/redis:7, alias: bitnami-redis }\n  script: make`,
    ['also reached it as bitnami__redis'],
  ],
  [
    'gitlab: a service object without an alias is left, with the alias to add',
    'yaml',
    'test:\n  services:\n  - name: postgres:17\n    command: ["postgres", "-c", "fsync=off"]\n  script: make',
    'test:\n  services:\n  - name: postgres:17\n    command: ["postgres", "-c", "fsync=off"]\n  script: make',
    ['add alias: postgres'],
  ],
  [
    'gitlab service objects',
    'yaml',
    'stages: [test]\nservices:\n  - name: postgres:17\n    alias: db\n  - alias: cache\n    name: redis:7',
    `stages: [test]\nservices:\n  - name: ${C}/library/postgres:17\n    alias: db\n  - alias: cache\n    name: ${C}/library/redis:7`,
    [],
  ],
  [
    'gitlab image object',
    'yaml',
    'image:\n  name: python:3.13-slim\n  entrypoint: [""]\nlint:\n  script: [ruff .]',
    `image:\n  name: ${C}/library/python:3.13-slim\n  entrypoint: [""]\nlint:\n  script: [ruff .]`,
    [],
  ],
  [
    'services lists outside GitLab CI (no job script, no stages) are not images',
    'yaml',
    'services:\n  - name: web\n    port: 80\n  - api',
    'services:\n  - name: web\n    port: 80\n  - api',
    [],
  ],
  [
    'a list that is not services, and names that are not images',
    'yaml',
    'script:\n  - make\ncontainers:\n  - name: app\n    image: busybox:1.36',
    `script:\n  - make\ncontainers:\n  - name: app\n    image: ${C}/library/busybox:1.36`,
    [],
  ],
  [
    'yaml image with digest',
    'yaml',
    `    image: nginx@sha256:${'c'.repeat(64)}`,
    `    image: ${C}/library/nginx@sha256:${'c'.repeat(64)}`,
    ['pinned by digest'],
  ],
  ['yaml key containing image', 'yaml', '    imagePullPolicy: Always', '    imagePullPolicy: Always', []],
  [
    'a flow mapping outside GitLab CI is left, with a note',
    'yaml',
    '    image: { name: node:22 }',
    '    image: { name: node:22 }',
    ['a YAML form this tool does not read'],
  ],
  [
    'Helm-style image without a registry: left, with the repository to set if the chart takes a full one',
    'yaml',
    'image: { repository: nginx, tag: "1.27" }',
    'image: { repository: nginx, tag: "1.27" }',
    [
      `a Helm-style image without registry: (the chart may add its own): if it takes a full reference in repository, set repository: ${C}/library/nginx`,
    ],
  ],
  [
    'Helm values with registry and repository (Bitnami charts): both pointed at the cache',
    'yaml',
    'image:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: 7.4\nmetrics:\n  image:\n    registry: "docker.io"\n    repository: library/nginx\n  repository: x',
    'image:\n  registry: r.example\n  repository: docker-hub/bitnami/redis\n  tag: 7.4\nmetrics:\n  image:\n    registry: "r.example"\n    repository: docker-hub/library/nginx\n  repository: x',
    [],
  ],
  [
    'Helm values with an empty registry (a global one decides): as without one',
    'yaml',
    'image:\n  registry: ""\n  repository: nginx',
    'image:\n  registry: ""\n  repository: nginx',
    [`if it takes a full reference in repository, set repository: ${C}/library/nginx`],
  ],
  [
    'Helm values from a registry no rule caches: left, with a note',
    'yaml',
    'image:\n  registry: registry.k8s.io\n  repository: pause\n  tag: "3.10"',
    'image:\n  registry: registry.k8s.io\n  repository: pause\n  tag: "3.10"',
    ['registry.k8s.io has no pull-through cache rule'],
  ],
  [
    'gitlab image as a flow mapping',
    'yaml',
    'image: { name: python:3.13-slim, entrypoint: [""] }\ntest:\n  script: pytest',
    `image: { name: ${C}/library/python:3.13-slim, entrypoint: [""] }\ntest:\n  script: pytest`,
    [],
  ],
  [
    'gitlab services as a flow sequence',
    'yaml',
    'test:\n  services: [postgres:17, "redis:7", { name: mysql:8, alias: db }, { name: mongo:8 }] # deps\n  script: make',
    `test:\n  services: [{ name: ${C}/library/postgres:17, alias: postgres }, { name: "${C}/library/redis:7", alias: redis }, { name: ${C}/library/mysql:8, alias: db }, { name: ${C}/library/mongo:8, alias: mongo }] # deps\n  script: make`,
    [],
  ],
  [
    'actions container as a flow mapping',
    'yaml',
    '    container: { image: node:22, options: --cpus 1 }',
    `    container: { image: ${C}/library/node:22, options: --cpus 1 }`,
    [],
  ],
  [
    'gitlab flow mapping over several lines',
    'yaml',
    'image: { name: node:22,\n  entrypoint: [""] }\ntest:\n  script: make',
    `image: { name: ${C}/library/node:22,\n  entrypoint: [""] }\ntest:\n  script: make`,
    [],
  ],
  [
    'an anchored image, and an alias of it',
    'yaml',
    'services:\n  a:\n    image: &node node:22 # shared\n  b:\n    image: *node',
    `services:\n  a:\n    image: &node ${C}/library/node:22 # shared\n  b:\n    image: *node`,
    [],
  ],
  [
    'an alias of a reference anchored elsewhere: rewritten where the anchor is set, once',
    'yaml',
    'variables:\n  NODE_IMAGE: &node "node:22"\ntest:\n  image: *node\n  script: make\nlint:\n  image: *node\n  script: make',
    `variables:\n  NODE_IMAGE: &node "${C}/library/node:22"\ntest:\n  image: *node\n  script: make\nlint:\n  image: *node\n  script: make`,
    [],
  ],
  [
    'gitlab services that are aliases: left, as GitLab would name them after the cache (one with an alias is rewritten)',
    'yaml',
    'variables:\n  PG: &pg postgres:17\n  REDIS: &redis redis:7\n  MYSQL: &mysql mysql:8\na:\n  services: [*pg]\n  script: make\nb:\n  services:\n    - *redis\n    - name: *mysql\n      alias: db\n  script: make',
    `variables:\n  PG: &pg postgres:17\n  REDIS: &redis redis:7\n  MYSQL: &mysql ${C}/library/mysql:8\na:\n  services: [*pg]\n  script: make\nb:\n  services:\n    - *redis\n    - name: *mysql\n      alias: db\n  script: make`,
    ['write it as { name: *pg, alias: postgres }', 'write it as { name: *redis, alias: redis }'],
  ],
  [
    'an alias of something that is not a reference is left, with a note',
    'yaml',
    'x-defaults: &defaults\n  restart: always\nservices:\n  web:\n    image: *defaults',
    'x-defaults: &defaults\n  restart: always\nservices:\n  web:\n    image: *defaults',
    ['an alias (*defaults) of something that is not an image reference'],
  ],
  [
    'an alias whose anchor is not in the file is left, with a note',
    'yaml',
    'test:\n  image: *node\n  script: make',
    'test:\n  image: *node\n  script: make',
    ['anchor &node is not set above it in its document'],
  ],
  [
    'an image written as a block scalar',
    'yaml',
    '    image: >-\n      node:22',
    `    image: >-\n      ${C}/library/node:22`,
    [],
  ],
  [
    'gitlab anchored image object',
    'yaml',
    'image: &img\n  name: node:22\ntest:\n  script: make',
    `image: &img\n  name: ${C}/library/node:22\ntest:\n  script: make`,
    [],
  ],
  [
    'template expressions are left, with a note',
    'yaml',
    'a:\n  container: ${{ matrix.image }}\nb:\n  image: "{{ .Values.image }}"\nc:\n  image: {{ .Values.image }}',
    'a:\n  container: ${{ matrix.image }}\nb:\n  image: "{{ .Values.image }}"\nc:\n  image: {{ .Values.image }}',
    ['a template expression', 'a template expression', 'a template expression'],
  ],
  [
    'an empty image is not a reference',
    'yaml',
    "    image: ''\n    other: ~",
    "    image: ''\n    other: ~",
    [],
  ],
  // What reading YAML by lines got wrong: text inside block scalars, and forms spread over lines.
  [
    'a script in a block scalar is shell, not YAML: left alone',
    'yaml',
    'deploy:\n  script: |\n    cat > values.yaml <<EOF\n    image: node:22\n    EOF\n    helm upgrade app .',
    'deploy:\n  script: |\n    cat > values.yaml <<EOF\n    image: node:22\n    EOF\n    helm upgrade app .',
    [],
  ],
  [
    'prose in a folded scalar is not a reference',
    'yaml',
    'a:\n  description: >\n    container: node:22 is what we use',
    'a:\n  description: >\n    container: node:22 is what we use',
    [],
  ],
  [
    'a flow mapping as a list item (Kubernetes)',
    'yaml',
    'spec:\n  containers:\n  - {name: b, image: "redis:7"}',
    `spec:\n  containers:\n  - {name: b, image: "${C}/library/redis:7"}`,
    [],
  ],
  [
    'quoted keys (YAML written as JSON)',
    'yaml',
    '{"services": {"web": {"image": "nginx:1.27"},\n  "db": {"image": "postgres:17"}}}',
    `{"services": {"web": {"image": "${C}/library/nginx:1.27"},\n  "db": {"image": "${C}/library/postgres:17"}}}`,
    [],
  ],
  [
    'a quoted key in block form',
    'yaml',
    'services:\n  web:\n    "image": nginx:1.27',
    `services:\n  web:\n    "image": ${C}/library/nginx:1.27`,
    [],
  ],
  [
    'a comment inside a flow sequence over several lines',
    'yaml',
    'test:\n  services: [\n    postgres:17, # db\n    redis:7,\n  ]\n  script: make',
    `test:\n  services: [\n    { name: ${C}/library/postgres:17, alias: postgres }, # db\n    { name: ${C}/library/redis:7, alias: redis },\n  ]\n  script: make`,
    [],
  ],
  [
    'anchors belong to their document (Kubernetes files hold several)',
    'yaml',
    'a:\n  image: &n node:22\n---\nb:\n  image: *n',
    `a:\n  image: &n ${C}/library/node:22\n---\nb:\n  image: *n`,
    ['anchor &n is not set above it in its document'],
  ],
  [
    'a Helm template: its control lines are read around, its images rewritten',
    'yaml',
    '{{- if .Values.enabled }}\nspec:\n  containers:\n  - name: app\n    image: node:22\n  - name: side\n    image: {{ .Values.side }}\n{{- end }}',
    `{{- if .Values.enabled }}\nspec:\n  containers:\n  - name: app\n    image: ${C}/library/node:22\n  - name: side\n    image: {{ .Values.side }}\n{{- end }}`,
    ['a template expression'],
  ],
  [
    'a Jinja template (Ansible): control and comment lines read around, a templated value noted',
    'yaml',
    '{# compose for {{ env }} #}\nservices:\n{% if with_cache %}\n  cache:\n    image: redis:7\n{% endif %}\n  app:\n    image: "{{ app_image }}"',
    `{# compose for {{ env }} #}\nservices:\n{% if with_cache %}\n  cache:\n    image: ${C}/library/redis:7\n{% endif %}\n  app:\n    image: "{{ app_image }}"`,
    ['a template expression'],
  ],
  [
    'a double-quoted reference written with escapes is left, with a note',
    'yaml',
    'image: "node\\x3a22"',
    'image: "node\\x3a22"',
    ['written with escapes'],
  ],
  [
    'a file that is not YAML is left whole, with a note naming the line',
    'yaml',
    'a:\n  image: node:22\n\tb: c',
    'a:\n  image: node:22\n\tb: c',
    ['not YAML this tool can read (line 3'],
  ],
  [
    "Azure Pipelines: a container resource's `container:` is its name, and a job naming it is no image",
    'yaml',
    'resources:\n  containers:\n  - container: u22\n    image: ubuntu:22.04\njobs:\n- job: build\n  container: u22\n- job: lint\n  container: node:22',
    `resources:\n  containers:\n  - container: u22\n    image: ${C}/library/ubuntu:22.04\njobs:\n- job: build\n  container: u22\n- job: lint\n  container: ${C}/library/node:22`,
    // The agent pulls a container job's image before its steps, with the endpoint: connection.
    ['Azure Pipelines pulls a container job', 'Azure Pipelines pulls a container job'],
  ],
  [
    'Azure Pipelines: a stage job container object and a single-job pipeline, each cautioned',
    'yaml',
    'stages:\n- stage: test\n  jobs:\n  - job: unit\n    container:\n      image: python:3.13\n      endpoint: dockerhub\n    steps:\n    - script: pytest',
    `stages:\n- stage: test\n  jobs:\n  - job: unit\n    container:\n      image: ${C}/library/python:3.13\n      endpoint: dockerhub\n    steps:\n    - script: pytest`,
    ['Azure Pipelines pulls a container job'],
  ],
  [
    // The runner pulls every docker:// action when the job starts, before any step can log in, and
    // such a step takes no credentials: pointed at the cache, it would fail on GitHub's runners.
    "GitHub Actions: a step's docker:// action is left, with how to pull it through the cache",
    'yaml',
    'steps:\n  - uses: actions/checkout@v4\n  - uses: docker://alpine:3.20\n    with:\n      args: echo hi',
    'steps:\n  - uses: actions/checkout@v4\n  - uses: docker://alpine:3.20\n    with:\n      args: echo hi',
    [
      `pulled when the job starts, before any step can log in: run docker run ${C}/library/alpine:3.20 after the login`,
    ],
  ],
  [
    'GitHub Actions workflow: a job container and a service from the cache need credentials (a caution each)',
    'yaml',
    'on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    container: node:22\n    services:\n      redis:\n        image: redis:7\n      db:\n        image: postgres:17\n        credentials:\n          username: ${{ needs.login.outputs.username }}\n          password: ${{ needs.login.outputs.password }}\n    steps:\n      - run: make',
    `on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    container: ${C}/library/node:22\n    services:\n      redis:\n        image: ${C}/library/redis:7\n      db:\n        image: ${C}/library/postgres:17\n        credentials:\n          username: \${{ needs.login.outputs.username }}\n          password: \${{ needs.login.outputs.password }}\n    steps:\n      - run: make`,
    ['give it credentials:', 'give it credentials:'],
  ],
  [
    // CircleCI pulls a docker executor's images before the job's steps, with the image's own
    // aws_auth: (or auth:); a login step cannot reach them.
    "CircleCI: a job's docker executor, each image without aws_auth: cautioned",
    'yaml',
    'version: 2.1\njobs:\n  test:\n    docker:\n      - image: cimg/node:22.11\n      - image: postgres:17\n        environment:\n          POSTGRES_PASSWORD: x',
    `version: 2.1\njobs:\n  test:\n    docker:\n      - image: ${C}/cimg/node:22.11\n      - image: ${C}/library/postgres:17\n        environment:\n          POSTGRES_PASSWORD: x`,
    ['CircleCI pulls a docker executor', 'CircleCI pulls a docker executor'],
  ],
  [
    'CircleCI: an executor whose image has aws_auth: needs no caution',
    'yaml',
    'version: 2.1\nexecutors:\n  node:\n    docker:\n      - image: cimg/node:22.11\n        aws_auth:\n          oidc_role_arn: arn:aws:iam::123456789012:role/ci\njobs:\n  test:\n    executor: node\n    steps: [checkout]',
    `version: 2.1\nexecutors:\n  node:\n    docker:\n      - image: ${C}/cimg/node:22.11\n        aws_auth:\n          oidc_role_arn: arn:aws:iam::123456789012:role/ci\njobs:\n  test:\n    executor: node\n    steps: [checkout]`,
    [],
  ],
  [
    // The docker plugin pulls its image in its command hook; the ecr plugin logs in before it (in
    // its pre-command hook). A docker login in the step's command runs inside the container.
    "Buildkite: a docker plugin's image from the cache, in a step without the ecr plugin: cautioned",
    'yaml',
    'steps:\n  - label: test\n    command: npm test\n    plugins:\n      - docker#v5.13.0:\n          image: node:22\n  - label: lint\n    command: npm run lint\n    plugins:\n      - ecr#v2.11.0:\n          account-ids: "123456789012"\n      - docker#v5.13.0:\n          image: node:22',
    `steps:\n  - label: test\n    command: npm test\n    plugins:\n      - docker#v5.13.0:\n          image: ${C}/library/node:22\n  - label: lint\n    command: npm run lint\n    plugins:\n      - ecr#v2.11.0:\n          account-ids: "123456789012"\n      - docker#v5.13.0:\n          image: ${C}/library/node:22`,
    ["Buildkite's docker plugin pulls its image before the step's command"],
  ],
  [
    // Bitbucket pulls a step's and a service's image with the credentials written beside it.
    'Bitbucket Pipelines: the default image and a service, each cautioned (no aws: beside them)',
    'yaml',
    'image: node:22\ndefinitions:\n  services:\n    redis:\n      image: redis:7\npipelines:\n  default:\n    - step:\n        script:\n          - npm test\n        services:\n          - redis',
    `image: ${C}/library/node:22\ndefinitions:\n  services:\n    redis:\n      image: ${C}/library/redis:7\npipelines:\n  default:\n    - step:\n        script:\n          - npm test\n        services:\n          - redis`,
    [
      'Bitbucket Pipelines pulls this image with the credentials written beside it',
      'Bitbucket Pipelines pulls this image',
    ],
  ],
  [
    "Bitbucket Pipelines: an image object's name, with aws: beside it",
    'yaml',
    'pipelines:\n  default:\n    - step:\n        oidc: true\n        image:\n          name: python:3.13\n          aws:\n            oidc-role: arn:aws:iam::123456789012:role/ci\n        script:\n          - pytest',
    `pipelines:\n  default:\n    - step:\n        oidc: true\n        image:\n          name: ${C}/library/python:3.13\n          aws:\n            oidc-role: arn:aws:iam::123456789012:role/ci\n        script:\n          - pytest`,
    [],
  ],
  [
    // Those would be sent to the cache: left, with what to write instead.
    "Bitbucket Pipelines: an image object with another registry's username and password is left",
    'yaml',
    'pipelines:\n  default:\n    - step:\n        image:\n          name: python:3.13\n          username: $DOCKER_HUB_USER\n          password: $DOCKER_HUB_TOKEN\n        script:\n          - pytest',
    'pipelines:\n  default:\n    - step:\n        image:\n          name: python:3.13\n          username: $DOCKER_HUB_USER\n          password: $DOCKER_HUB_TOKEN\n        script:\n          - pytest',
    [
      `its username and password are another registry's: point name: at ${C}/library/python:3.13 with aws: { oidc-role: <a role that may pull through the cache> } in their place`,
    ],
  ],
  [
    "kustomize: an image's newName is rewritten; without one, the note says what to add",
    'yaml',
    'resources:\n- deploy.yaml\nimages:\n- name: nginx\n  newName: nginx\n  newTag: "1.27"\n- name: postgres\n  newTag: "17"\n- name: app\n  newName: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app',
    `resources:\n- deploy.yaml\nimages:\n- name: nginx\n  newName: ${C}/library/nginx\n  newTag: "1.27"\n- name: postgres\n  newTag: "17"\n- name: app\n  newName: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app`,
    [`add newName: ${C}/library/postgres`, 'has no pull-through cache rule'],
  ],
  [
    'CloudFormation: an ECS task definition and a Batch job definition; intrinsic functions left',
    'yaml',
    'Resources:\n  Task:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      ContainerDefinitions:\n        - Name: app\n          Image: node:22\n        - Name: side\n          Image: !Sub "${Registry}/side:1"\n        - Name: ref\n          Image: !Ref SideImage\n  Job:\n    Type: AWS::Batch::JobDefinition\n    Properties:\n      ContainerProperties:\n        Image: python:3.13-slim',
    `Resources:\n  Task:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      ContainerDefinitions:\n        - Name: app\n          Image: ${C}/library/node:22\n        - Name: side\n          Image: !Sub "\${Registry}/side:1"\n        - Name: ref\n          Image: !Ref SideImage\n  Job:\n    Type: AWS::Batch::JobDefinition\n    Properties:\n      ContainerProperties:\n        Image: ${C}/library/python:3.13-slim`,
    ['a CloudFormation function (!Sub)', 'a CloudFormation function (!Ref)'],
  ],
  [
    'CloudFormation in JSON: an intrinsic function is left',
    'json',
    '{"Properties": {"ContainerDefinitions": [{"Image": "node:22"}, {"Image": {"Fn::Sub": "${R}/x:1"}}]}}',
    `{"Properties": {"ContainerDefinitions": [{"Image": "${C}/library/node:22"}, {"Image": {"Fn::Sub": "\${R}/x:1"}}]}}`,
    ['a CloudFormation function (Fn::Sub)'],
  ],
  [
    "an Image key outside a container definition is someone else's",
    'yaml',
    'Properties:\n  ImageId: ami-123\n  Image: node:22',
    'Properties:\n  ImageId: ami-123\n  Image: node:22',
    [],
  ],
  [
    'an action that is not docker:// is not a reference, expression or not',
    'yaml',
    'steps:\n  - uses: ${{ matrix.action }}\n  - uses: ./local',
    'steps:\n  - uses: ${{ matrix.action }}\n  - uses: ./local',
    [],
  ],
  [
    'an image value with a space in it is not a reference',
    'yaml',
    'services:\n  a:\n    image: node\n      22',
    'services:\n  a:\n    image: node\n      22',
    ['not an image reference'],
  ],
  [
    "skaffold: a build artifact's image is the name it builds, not a pull",
    'yaml',
    'apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n  - image: my-app\n    docker:\n      dockerfile: Dockerfile',
    'apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n  - image: my-app\n    docker:\n      dockerfile: Dockerfile',
    ['the name a build artifact is tagged with'],
  ],
  // JSON: ECS task definitions, dev containers, Kubernetes manifests written as JSON.
  [
    'an ECS task definition (tab-indented JSON)',
    'json',
    '{\n\t"family": "web",\n\t"containerDefinitions": [\n\t\t{ "name": "app", "image": "node:22" },\n\t\t{ "name": "log", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable" }\n\t]\n}\n',
    `{\n\t"family": "web",\n\t"containerDefinitions": [\n\t\t{ "name": "app", "image": "${C}/library/node:22" },\n\t\t{ "name": "log", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable" }\n\t]\n}\n`,
    ['public.ecr.aws has no pull-through cache rule'],
  ],
  [
    'a dev container (JSON with comments and a trailing comma)',
    'json',
    '{\n  // the toolchain, from Docker Hub\n  "image": "node:22", /* pinned: "image": "node:20" */\n  "features": {},\n}\n',
    `{\n  // the toolchain, from Docker Hub\n  "image": "${C}/library/node:22", /* pinned: "image": "node:20" */\n  "features": {},\n}\n`,
    [],
  ],
  [
    'a JSON string holding comment marks is a string',
    'json',
    '{"image": "node:22", "note": "see http://x/* and //y"}',
    `{"image": "${C}/library/node:22", "note": "see http://x/* and //y"}`,
    [],
  ],
  [
    'JSON with a byte order mark (as some Windows editors save it)',
    'json',
    '\uFEFF{"image": "node:22"}',
    `\uFEFF{"image": "${C}/library/node:22"}`,
    [],
  ],
  [
    'JSON that does not parse is left whole, with a note',
    'json',
    '{"image": "node:22",\n "x": }',
    '{"image": "node:22",\n "x": }',
    ['not JSON this tool can read (line 2'],
  ],
  [
    // The Docker Pipeline plugin pulls a docker agent's image with the credentials its block names.
    'Jenkinsfile: a declarative docker agent with the registry credentials',
    'jenkinsfile',
    "pipeline {\n  agent {\n    docker {\n      image 'node:22-alpine'\n      registryUrl 'https://r.example'\n      registryCredentialsId 'ecr:us-east-1:ci'\n      args '-v /tmp:/tmp'\n    }\n  }\n  stages { stage('test') { steps { sh 'npm test' } } }\n}",
    `pipeline {\n  agent {\n    docker {\n      image '${C}/library/node:22-alpine'\n      registryUrl 'https://r.example'\n      registryCredentialsId 'ecr:us-east-1:ci'\n      args '-v /tmp:/tmp'\n    }\n  }\n  stages { stage('test') { steps { sh 'npm test' } } }\n}`,
    [],
  ],
  [
    'Jenkinsfile: a declarative docker agent without them, and one per stage: a caution each',
    'jenkinsfile',
    'pipeline {\n  agent none\n  stages {\n    stage("a") {\n      agent { docker { image "python:3.13" } }\n      steps { sh "pytest" }\n    }\n    stage("b") {\n      agent {\n        docker {\n          image \'golang:1.24\'\n        }\n      }\n      steps { sh "go test ./..." }\n    }\n  }\n}',
    `pipeline {\n  agent none\n  stages {\n    stage("a") {\n      agent { docker { image "${C}/library/python:3.13" } }\n      steps { sh "pytest" }\n    }\n    stage("b") {\n      agent {\n        docker {\n          image '${C}/library/golang:1.24'\n        }\n      }\n      steps { sh "go test ./..." }\n    }\n  }\n}`,
    [
      "add registryUrl 'https://r.example' and registryCredentialsId 'ecr:<region>:<credentials id>'",
      "add registryUrl 'https://r.example' and registryCredentialsId 'ecr:<region>:<credentials id>'",
    ],
  ],
  [
    // `agent { docker 'x' }` takes no credentials at all: pointed at the cache it could not pull.
    'Jenkinsfile: the short agent form is left, with the block form to write',
    'jenkinsfile',
    "pipeline {\n  agent { docker 'maven:3.9' }\n}",
    "pipeline {\n  agent { docker 'maven:3.9' }\n}",
    [
      `write it as docker { image '${C}/library/maven:3.9'; registryUrl 'https://r.example'; registryCredentialsId 'ecr:<region>:<credentials id>' }`,
    ],
  ],
  [
    // The kubelet pulls a pod template's containers, with the node's credentials (its ECR
    // credential provider covers names on the cache): rewritten, no caution.
    "Jenkinsfile: a kubernetes agent's pod template written inline",
    'jenkinsfile',
    "pipeline {\n  agent {\n    kubernetes {\n      yaml '''\n        apiVersion: v1\n        kind: Pod\n        spec:\n          containers:\n          - name: node\n            image: node:22\n            command: [sleep]\n          - name: db\n            image: \"postgres:17\"  # the tests' database\n        '''\n    }\n  }\n  stages { stage('t') { steps { container('node') { sh 'npm test' } } } }\n}",
    `pipeline {\n  agent {\n    kubernetes {\n      yaml '''\n        apiVersion: v1\n        kind: Pod\n        spec:\n          containers:\n          - name: node\n            image: ${C}/library/node:22\n            command: [sleep]\n          - name: db\n            image: "${C}/library/postgres:17"  # the tests' database\n        '''\n    }\n  }\n  stages { stage('t') { steps { container('node') { sh 'npm test' } } } }\n}`,
    [],
  ],
  [
    "Jenkinsfile: the Kubernetes plugin's scripted podTemplate containers",
    'jenkinsfile',
    "podTemplate(containers: [\n  containerTemplate(name: 'maven', image: 'maven:3.9-eclipse-temurin-21', command: 'sleep', args: '99d'),\n  containerTemplate(name: 'kaniko', image: \"gcr.io/kaniko-project/executor:debug\")\n]) {\n  node(POD_LABEL) { container('maven') { sh 'mvn -B verify' } }\n}",
    `podTemplate(containers: [\n  containerTemplate(name: 'maven', image: '${C}/library/maven:3.9-eclipse-temurin-21', command: 'sleep', args: '99d'),\n  containerTemplate(name: 'kaniko', image: "gcr.io/kaniko-project/executor:debug")\n]) {\n  node(POD_LABEL) { container('maven') { sh 'mvn -B verify' } }\n}`,
    ['gcr.io has no pull-through cache rule here'],
  ],
  [
    'Jenkinsfile: scripted docker.image inside docker.withRegistry; a variable tag kept',
    'jenkinsfile',
    "node {\n  docker.withRegistry('https://r.example', 'ecr:us-east-1:ci') {\n    docker.image(\"node:${NODE_VERSION}-alpine\").inside {\n      sh 'npm test'\n    }\n  }\n}",
    `node {\n  docker.withRegistry('https://r.example', 'ecr:us-east-1:ci') {\n    docker.image("${C}/library/node:\${NODE_VERSION}-alpine").inside {\n      sh 'npm test'\n    }\n  }\n}`,
    [],
  ],
  [
    'Jenkinsfile: scripted docker.image outside withRegistry: a caution; comments, shell lines and names from variables are not images',
    'jenkinsfile',
    "// docker.image('node:20') was the old one\nnode {\n  /* docker { image 'node:18' } */\n  sh 'docker run --rm node:22 node -v'\n  def url = 'https://example.com//x'\n  docker.image('redis:7').withRun { c -> sh 'make it' }\n  docker.image(imageName).inside { sh 'true' }\n  docker.image(\"${REGISTRY}/app:1\").pull()\n}",
    `// docker.image('node:20') was the old one\nnode {\n  /* docker { image 'node:18' } */\n  sh 'docker run --rm node:22 node -v'\n  def url = 'https://example.com//x'\n  docker.image('${C}/library/redis:7').withRun { c -> sh 'make it' }\n  docker.image(imageName).inside { sh 'true' }\n  docker.image("\${REGISTRY}/app:1").pull()\n}`,
    [
      "pull it inside docker.withRegistry('https://r.example', 'ecr:<region>:<credentials id>')",
      'built from a variable',
    ],
  ],
];

describe('rewrite corpus', () => {
  it('has at least 40 real-world forms', () => expect(CORPUS.length).toBeGreaterThanOrEqual(40));

  it.each(CORPUS)('%s', (_form, kind, input, expected, notes) => {
    const result = rewriteText(input, kind, target);
    expect(result.output).toBe(expected);
    // A GitLab CI file that changes says once how the runner gets credentials (tested on its own
    // in test/unit/cli/rewrite.test.ts): the forms' own notes are the rest.
    const runner = (n: { note: string }) => n.note.startsWith("GitLab's runner pulls");
    expect(result.notes.filter(runner).length).toBeLessThanOrEqual(1);
    expect(result.notes.filter((n) => !runner(n)).map((n) => n.note)).toEqual(
      notes.map((n) => expect.stringContaining(n)),
    );
    // Idempotent: a second run changes nothing.
    expect(rewriteText(result.output, kind, target).changes).toEqual([]);
  });

  it('lists an ARG default it rewrote in line order, before the FROMs below it', () => {
    const result = rewriteText(
      'ARG BASE=node:22\nFROM alpine:3.20 AS tools\nFROM ${BASE}',
      'dockerfile',
      target,
    );
    expect(result.changes.map((c) => c.line)).toEqual([1, 2]);
  });

  it("a JSON file it cannot read is named by its line, without the excerpt of it V8's message carries", () => {
    const notes = (text: string) => rewriteText(text, 'json', target).notes.map((n) => n.note);
    const secret = '{\n  "environment": [{ "name": "TOKEN", "value": "s3cr3t" }],\n  "image": \'node:22\'\n}';
    expect(notes(secret)).toEqual([
      'not JSON this tool can read (line 3: Unexpected token): the file is left as it is',
    ]);
    expect(notes('{"image": "node:22",\n "x": }')).toEqual([
      'not JSON this tool can read (line 2: Unexpected token): the file is left as it is',
    ]);
  });

  it("a file it cannot read is named by its line, and none of the file's text reaches the note", () => {
    for (const [kind, text] of [
      ['json', '{\n  "environment": [{ "name": "TOKEN", "value": "s3cr3t-value" }]\n  "image": "node:22"\n}'],
      ['yaml', 'env:\n  TOKEN: s3cr3t-value\n  - s3cr3t-value: x\nimage: node:22'],
    ] as const) {
      const notes = rewriteText(text, kind, target).notes;
      expect(notes).toHaveLength(1);
      expect(JSON.stringify(notes)).not.toContain('s3cr3t');
    }
  });

  it('says once per GitLab CI file that changes, and only there, that the runner pulls its images', () => {
    const runnerNotes = (text: string) =>
      rewriteText(text, 'yaml', target).notes.filter((n) => n.note.startsWith("GitLab's runner pulls"));
    expect(runnerNotes('image: node:22\nservices: [postgres:17]\ntest:\n  script: make')).toEqual([
      expect.objectContaining({ line: 1, reference: 'node:22', left: false }),
    ]);
    expect(runnerNotes('image: r.example/docker-hub/library/node:22\ntest:\n  script: make')).toEqual([]);
    expect(runnerNotes('services:\n  web:\n    image: nginx:1.27')).toEqual([]);
    // Azure Pipelines has stages: too, a list of objects (GitLab's is a list of names).
    const azure = 'stages:\n- stage: test\n  jobs:\n  - job: unit\n    container: node:22';
    expect(runnerNotes(azure)).toEqual([]);
    // A pipeline of one job: its container: at the top.
    const single = rewriteText(
      'pool:\n  vmImage: ubuntu-latest\ncontainer: node:22\nsteps:\n- script: make',
      'yaml',
      target,
    );
    expect(single.notes.map((n) => n.note)).toEqual([
      expect.stringMatching(/^Azure Pipelines pulls a container job/),
    ]);
  });

  it('with the ROOT prefix, references go to the registry root', () => {
    expect(
      rewriteText('FROM node:22', 'dockerfile', {
        registryHost: 'r.example',
        rules: [{ prefix: 'ROOT', upstreamPrefix: 'ROOT', pullHosts: DOCKER_HUB }],
      }).output,
    ).toBe('FROM r.example/library/node:22');
  });
});

describe('file kinds', () => {
  it.each([
    ['Dockerfile', 'dockerfile'],
    ['build/Dockerfile.dev', 'dockerfile'],
    ['Containerfile', 'dockerfile'],
    ['app.Dockerfile', 'dockerfile'],
    ['docker-compose.yml', 'yaml'],
    ['.github/workflows/ci.yaml', 'yaml'],
    ['task-definition.json', 'json'],
    ['.devcontainer/devcontainer.json', 'json'],
    ['Jenkinsfile', 'jenkinsfile'],
    ['ci/Jenkinsfile.release', 'jenkinsfile'],
    ['deploy.jenkinsfile', 'jenkinsfile'],
    ['README.md', undefined],
  ])('%s is %s', (path, kind) => expect(fileKind(path)).toBe(kind));

  it.each([
    ['.gitlab-ci.yml', true],
    ['sub/.gitlab-ci.yaml', true],
    ['templates/Node.gitlab-ci.yml', true],
    ['.gitlab/ci/build.yml', true],
    ['ci/.gitlab/jobs/test.yaml', true],
    ['gitlab.yml', false],
    ['docker-compose.yml', false],
    ['.github/workflows/ci.yml', false],
  ])('%s is GitLab CI by its name: %s', (path, gitlab) => expect(isGitlabCiFile(path)).toBe(gitlab));
});

describe('unified diff', () => {
  it('shows each changed line with three lines of context', () => {
    const before = 'a\nb\nc\nFROM node:22\nd\ne\nf\ng\nh\ni\nj\nk\nFROM redis:7';
    const after = rewriteText(before, 'dockerfile', target).output;
    expect(unifiedDiff('Dockerfile', before, after)).toBe(
      [
        '--- a/Dockerfile',
        '+++ b/Dockerfile',
        '@@ -1,7 +1,7 @@',
        ' a',
        ' b',
        ' c',
        '-FROM node:22',
        `+FROM ${C}/library/node:22`,
        ' d',
        ' e',
        ' f',
        '@@ -10,4 +10,4 @@',
        ' i',
        ' j',
        ' k',
        '-FROM redis:7',
        `+FROM ${C}/library/redis:7`,
      ].join('\n'),
    );
  });
});

describe('Buildkite plugins named by their repository', () => {
  it.each([
    ['https://github.com/buildkite-plugins/ecr-buildkite-plugin.git#v2.11.0', 0],
    ['buildkite-plugins/ecr#v2.11.0', 0],
    ['seek-oss/create-ecr#v2.0.0', 1], // another plugin: no login
  ])('a step with %s beside the docker plugin: %i caution(s)', (login, cautions) => {
    const text = `steps:\n  - command: make\n    plugins:\n      - ${login}: ~\n      - https://github.com/buildkite-plugins/docker-buildkite-plugin.git#v5.13.0:\n          image: node:22`;
    const result = rewriteText(text, 'yaml', target);
    expect(result.changes).toHaveLength(1);
    expect(result.notes.filter((n) => n.note.startsWith("Buildkite's docker plugin"))).toHaveLength(cautions);
  });
});

describe('Jenkinsfiles', () => {
  it('reads past an interpolation with quotes of its own, and counts no brace inside a string', () => {
    const text = [
      'pipeline {',
      '  agent {',
      '    docker {',
      '      image "node:${params.get("NODE", "22")}"',
      "      args '-e X={'",
      '      registryCredentialsId "ecr:us-east-1:ci"',
      '    }',
      '  }',
      '  stages { stage("x") { steps { sh "echo }" } } }',
      '}',
      "node { docker.image('redis:7').pull() }",
    ].join('\n');
    const result = rewriteText(text, 'jenkinsfile', target);
    expect(result.changes.map((c) => c.to)).toEqual([
      `${C}/library/node:\${params.get("NODE", "22")}`,
      `${C}/library/redis:7`,
    ]);
    // The docker block holds its registryCredentialsId: only the scripted pull is cautioned.
    expect(result.notes.map((n) => n.line)).toEqual([11]);
  });
});
