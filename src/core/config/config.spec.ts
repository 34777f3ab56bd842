import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config';
import { ConfigError } from './env-reader';

const tmp = () => mkdtempSync(join(tmpdir(), 'softchat-config-'));

describe('loadConfig', () => {
  it('gives working defaults with no environment at all (development)', () => {
    const dir = tmp();
    const c = loadConfig({ DATA_DIR: dir });
    expect(c.port).toBe(3001);
    expect(c.database.url).toBeNull();
    expect(c.redis.url).toBeNull();
    expect(c.corsOrigins).toEqual(['http://localhost:8080']);
    expect(c.p2p.minPaymentWindowSeconds).toBe(300);
    expect(c.p2p.releaseWindowSeconds).toBe(1800);
    expect(c.fees).toEqual({ tradingBps: 0, p2pBps: 0, tipBps: 0, transferBps: 0 });
    expect(c.database.migrationsRun).toBe(true);
    // A development JWT secret is generated once and kept, so restarts keep sessions valid.
    expect(c.jwt.secret.length).toBeGreaterThanOrEqual(32);
    expect(readFileSync(join(dir, 'jwt-secret'), 'utf8').trim()).toBe(c.jwt.secret);
    expect(loadConfig({ DATA_DIR: dir }).jwt.secret).toBe(c.jwt.secret);
  });

  it('requires real URLs and a JWT secret in production, naming each variable', () => {
    try {
      loadConfig({ NODE_ENV: 'production' });
      throw new Error('should have failed');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      expect(msg).toContain('DATABASE_URL is required');
      expect(msg).toContain('REDIS_URL is required');
      expect(msg).toContain('JWT_SECRET is required');
    }
  });

  it('refuses production without BTC_XPUB and ETH_XPUB, naming them (no mainnet address whose key nobody holds)', () => {
    const base = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://u:p@db:5432/x',
      REDIS_URL: 'redis://r:6379',
      JWT_SECRET: 'x'.repeat(40),
    };
    expect(() => loadConfig(base)).toThrow(
      expect.objectContaining({ problems: ['BTC_XPUB is required when NODE_ENV=production', 'ETH_XPUB is required when NODE_ENV=production'] }),
    );
    expect(() => loadConfig({ ...base, BTC_XPUB: 'xpub-btc' })).toThrow(/ETH_XPUB is required/);
    const ok = loadConfig({ ...base, BTC_XPUB: 'xpub-btc', ETH_XPUB: 'xpub-eth' });
    expect(ok.wallet).toMatchObject({ btcXpub: 'xpub-btc', ethXpub: 'xpub-eth' });
    // Development keeps its generated key pair.
    expect(loadConfig({ DATA_DIR: tmp() }).wallet.btcXpub).toBeNull();
  });

  it('reports every bad variable at once', () => {
    expect(() =>
      loadConfig({
        DATA_DIR: tmp(),
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        MIGRATIONS_RUN: 'maybe',
        TRADING_FEE_BPS: '20000',
        JWT_SECRET: 'short',
        JWT_ACCESS_TTL: '5 minutes',
        CORS_ORIGINS: 'not a url',
        ADMIN_EMAIL: 'admin@example.com',
      }),
    ).toThrow(
      expect.objectContaining({
        problems: expect.arrayContaining([
          'PORT must be an integer, got "eighty"',
          'DATABASE_URL must use postgres: or postgresql:, got "mysql:"',
          'MIGRATIONS_RUN must be true or false, got "maybe"',
          'TRADING_FEE_BPS must be between 0 and 10000, got 20000',
          'JWT_SECRET must be at least 32 characters long',
          'JWT_ACCESS_TTL must be a duration like 900, 15m, 12h or 30d, got "5 minutes"',
          'CORS_ORIGINS contains "not a url", which is not an origin like https://app.example.com',
          'ADMIN_EMAIL and ADMIN_PASSWORD must be set together',
        ]),
      }),
    );
  });

  it('parses durations, lists and booleans', () => {
    const c = loadConfig({
      DATA_DIR: tmp(),
      JWT_SECRET: 'x'.repeat(40),
      JWT_ACCESS_TTL: '10m',
      JWT_REFRESH_TTL: '7d',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      MIGRATIONS_RUN: 'false',
      P2P_MIN_PAYMENT_WINDOW_SECONDS: '60',
    });
    expect(c.jwt.accessTtlSeconds).toBe(600);
    expect(c.jwt.refreshTtlSeconds).toBe(7 * 86400);
    expect(c.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(c.database.migrationsRun).toBe(false);
    expect(c.p2p.minPaymentWindowSeconds).toBe(60);
  });
});
