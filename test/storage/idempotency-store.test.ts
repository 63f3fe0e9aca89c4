/** The idempotency storage contract on SQLite and PostgreSQL (the suite is in helpers/idempotency-contract.ts). */
import { idempotencyContract } from '../helpers/idempotency-contract.js';
import { onBothDatabases } from '../helpers/stores.js';

onBothDatabases(idempotencyContract);
