import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { include: ['test/models/stats/**/*.test.ts'], setupFiles: ['test/models/stats/zz-stress-setup.tmp.ts'], testTimeout: 600000 } });
