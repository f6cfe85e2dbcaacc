import { createLogger } from '../../src/shared/logger.js';

/** A silent logger for tests; set TEST_LOG=debug to see what the service logs. */
export const testLogger = () => createLogger({ level: process.env.TEST_LOG ?? 'silent', pretty: false });
