import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (f: string) => readFileSync(new URL(`../../${f}`, import.meta.url), 'utf8');

describe('deployment files', () => {
  it('docker-compose publishes no Redis port on the host, and the app only on loopback', () => {
    const compose = read('docker-compose.yml');
    const redis = compose.slice(compose.indexOf('\n  redis:'), compose.indexOf('\n  app:'));
    expect(redis).not.toMatch(/^\s*ports:/m);
    expect(compose).not.toMatch(/6379:6379/);
    expect(compose).toMatch(/ports: \["127\.0\.0\.1:3000:3000"\]/);
  });
  it('the image runs a maintained LTS Node, not the end-of-life 20', () => {
    const froms = [...read('Dockerfile').matchAll(/^FROM node:(\d+)/gm)].map((m) => Number(m[1]));
    expect(froms.length).toBeGreaterThan(0);
    for (const major of froms) expect(major === 22 || major === 24).toBe(true);
  });
});
