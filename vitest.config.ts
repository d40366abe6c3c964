import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The store's check for its outer handle used inside a transaction, off in the service.
    env: { SQL_CHECK_TRANSACTIONS: '1' },
  },
});
